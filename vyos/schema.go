package vyos

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// The schema below is written by hand for the command paths planetstage
// emits, from the VyOS interface definitions and node.def files cited in the
// reference (vyos-1x interfaces_openvpn.xml.in, protocols_static.xml.in, pki,
// system host-name, service ssh; vyatta-openvpn and vyatta-cfg-quagga for
// 1.2/1.3). It is not copied from VyOS's (GPL) XML. Its purpose is that a typo
// in an emitted command fails a test here instead of a commit on a router.

type kind int

const (
	container kind = iota // "node": children follow directly
	tag                   // "tagNode": a value, then children
	leaf                  // "leafNode": a value
	valueless             // "leafNode" with <valueless/>
)

type node struct {
	kind     kind
	value    func(string) bool
	help     string // what a value should look like, for errors
	multi    bool
	children map[string]*node
}

func cont(children map[string]*node) *node { return &node{kind: container, children: children} }
func tagN(v func(string) bool, help string, children map[string]*node) *node {
	return &node{kind: tag, value: v, help: help, children: children}
}
func leafN(v func(string) bool, help string) *node { return &node{kind: leaf, value: v, help: help} }
func multiN(v func(string) bool, help string) *node {
	return &node{kind: leaf, value: v, help: help, multi: true}
}
func flag() *node { return &node{kind: valueless} }

// Value checks.
func re(expr string) func(string) bool {
	r := regexp.MustCompile("^(?:" + expr + ")$") // VyOS anchors every regex
	return r.MatchString
}
func oneOf(vals ...string) func(string) bool {
	return func(s string) bool {
		for _, v := range vals {
			if s == v {
				return true
			}
		}
		return false
	}
}
func numeric(lo, hi int) func(string) bool {
	return func(s string) bool {
		n, err := strconv.Atoi(s)
		return err == nil && n >= lo && n <= hi && strconv.Itoa(n) == s
	}
}
func ipv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}
func ipv4Net(s string) bool { // a network: host bits clear
	p, err := netip.ParsePrefix(s)
	return err == nil && p.Addr().Is4() && p == p.Masked()
}
func ipv4IfAddr(s string) bool { // an interface address: host with length
	p, err := netip.ParsePrefix(s)
	return err == nil && p.Addr().Is4() && p.Bits() < 32 && p != p.Masked()
}

var (
	hostName    = re(`[A-Za-z0-9][-.A-Za-z0-9]*[A-Za-z0-9]`)
	ethName     = re(`eth[0-9]+`)
	vtunName    = re(`vtun[0-9]+`)
	port        = numeric(1, 65535)
	authFile    = re(`/config/auth/[^/ ]+`)
	pkiName     = re(`[-_a-zA-Z0-9.]+`)
	fingerprint = re(`[0-9a-fA-F]{2}:([0-9a-fA-F]{2}:){30}[0-9a-fA-F]{2}`)
	base64Value = re(`[A-Za-z0-9+/]+={0,2}`)
	hex512      = re(`[0-9a-fA-F]{512}`)
	// loginName is a login user other than root, which VyOS reserves.
	loginName = func(s string) bool { return s != "root" && re(`[a-z_][-a-z0-9_.]{0,31}`)(s) }
	keyID     = re(`[^ ]{1,100}`)
	// sshKeyTypes are the public key types "authentication public-keys
	// ID type" takes.
	sshKeyTypes = []string{"ssh-dss", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-ed25519"}
)

// schema returns the tree of the command paths planetstage emits, for d.
func schema(d Dialect) *node {
	hashes := []string{"md5", "sha1", "sha256", "sha512"}
	if d.atLeast(V13) {
		hashes = append(hashes, "sha384")
	}
	ovpn := map[string]*node{
		"mode":              leafN(oneOf("site-to-site", "client", "server"), "site-to-site|client|server"),
		"protocol":          leafN(oneOf("udp", "tcp-passive", "tcp-active"), "udp|tcp-passive|tcp-active"),
		"local-host":        leafN(ipv4, "IPv4 address"),
		"local-port":        leafN(port, "1-65535"),
		"remote-host":       multiN(func(s string) bool { return s != "" }, "address or host name"),
		"remote-port":       leafN(port, "1-65535"),
		"local-address":     tagN(ipv4, "IPv4 address", map[string]*node{"subnet-mask": leafN(ipv4, "IPv4 netmask")}),
		"remote-address":    leafN(ipv4, "IPv4 address"),
		"persistent-tunnel": flag(),
		"keep-alive": cont(map[string]*node{
			"interval":      leafN(numeric(0, 600), "0-600 seconds"),
			"failure-count": leafN(numeric(0, 1000), "0-1000"),
		}),
		"hash":        leafN(oneOf(hashes...), strings.Join(hashes, "|")),
		"description": leafN(func(s string) bool { return s != "" }, "text"),
	}
	tls := map[string]*node{"role": leafN(oneOf("active", "passive"), "active|passive")}
	switch {
	case d == V12:
		ovpn["encryption"] = leafN(oneOf("des", "3des", "bf128", "bf256", "aes128", "aes192", "aes256"), "des|3des|bf128|bf256|aes128|aes192|aes256")
	case d.atLeast(V15):
		ciphers := []string{"none", "3des", "aes128", "aes128gcm", "aes192", "aes192gcm", "aes256", "aes256gcm"}
		ovpn["encryption"] = cont(map[string]*node{"cipher": leafN(oneOf(ciphers...), strings.Join(ciphers, "|"))})
	default:
		ciphers := []string{"none", "des", "3des", "bf128", "bf256", "aes128", "aes128gcm", "aes192", "aes192gcm", "aes256", "aes256gcm"}
		ovpn["encryption"] = cont(map[string]*node{"cipher": leafN(oneOf(ciphers...), strings.Join(ciphers, "|"))})
	}
	if d.atLeast(V14) {
		ovpn["shared-secret-key"] = leafN(pkiName, "pki openvpn shared-secret name")
		tls["certificate"] = leafN(pkiName, "pki certificate name")
		tls["ca-certificate"] = multiN(pkiName, "pki ca name")
		tls["peer-fingerprint"] = multiN(fingerprint, "SHA-256 fingerprint, 32 colon-separated hex bytes")
		tls["dh-params"] = leafN(pkiName, "pki dh name")
	} else {
		ovpn["shared-secret-key-file"] = leafN(authFile, "file in /config/auth")
		for _, f := range []string{"ca-cert-file", "cert-file", "key-file", "dh-file", "crl-file"} {
			tls[f] = leafN(authFile, "file in /config/auth")
		}
	}
	ovpn["tls"] = cont(tls)

	static := map[string]*node{
		"route": tagN(ipv4Net, "IPv4 network", map[string]*node{
			"next-hop": tagN(ipv4, "IPv4 address", map[string]*node{"distance": leafN(numeric(1, 255), "1-255")}),
		}),
	}
	if d.atLeast(V14) {
		static["route"].children["interface"] = tagN(vtunOrEth, "interface name", map[string]*node{"distance": leafN(numeric(1, 255), "1-255")})
	} else {
		static["interface-route"] = tagN(ipv4Net, "IPv4 network", map[string]*node{
			"next-hop-interface": tagN(vtunOrEth, "interface name", map[string]*node{"distance": leafN(numeric(1, 255), "1-255")}),
		})
	}

	eth := map[string]*node{
		"address":     multiN(ipv4IfAddr, "IPv4 address with prefix length"),
		"description": leafN(func(s string) bool { return s != "" }, "text"),
		"vif": tagN(numeric(0, 4094), "VLAN 0-4094", map[string]*node{
			"address": multiN(ipv4IfAddr, "IPv4 address with prefix length"),
		}),
	}
	policyName := re(`[-_a-zA-Z0-9.]+`)
	extra := map[string]*node{}
	if d.atLeast(V14) {
		qos := cont(map[string]*node{
			"policy": cont(map[string]*node{"network-emulator": tagN(policyName, "policy name", map[string]*node{
				"delay":     leafN(numeric(0, 65535), "0-65535 milliseconds"),
				"loss":      leafN(numeric(0, 100), "0-100 percent"),
				"bandwidth": leafN(re(`[0-9]+([kmgt]?bit|[kmgt]?bps)?`), "rate"),
			})}),
			"interface": tagN(vtunOrEth, "interface name", map[string]*node{
				"egress": leafN(policyName, "policy name"),
			}),
		})
		extra["qos"] = qos
	} else {
		tp := cont(map[string]*node{"network-emulator": tagN(policyName, "policy name", map[string]*node{
			"network-delay": leafN(re(`[0-9]+(\.[0-9]+)?(s|sec|ms|msec|us)?`), "delay, a number with s|sec|ms|msec|us"),
			"packet-loss":   leafN(re(`[0-9]+(\.[0-9]+)?%?`), "percent"),
			"bandwidth":     leafN(re(`[0-9]+([kmgt]?bit|[kmgt]?bps)?`), "rate"),
		})})
		attach := func() *node { return cont(map[string]*node{"out": leafN(policyName, "policy name")}) }
		ovpn["traffic-policy"] = attach()
		eth["traffic-policy"] = attach()
		extra["traffic-policy"] = tp
	}
	wg := wireGuardSchema(d)
	root := map[string]*node{
		"system": cont(map[string]*node{
			"host-name": leafN(hostName, "host name"),
			// system-login.xml: a user's SSH public keys, by identifier.
			"login": cont(map[string]*node{"user": tagN(loginName, "user name", map[string]*node{
				"authentication": cont(map[string]*node{"public-keys": tagN(keyID, "key identifier", map[string]*node{
					"key":  leafN(base64Value, "base64 public key"),
					"type": leafN(oneOf(sshKeyTypes...), strings.Join(sshKeyTypes, "|")),
				})}),
			})}),
		}),
		"service": cont(map[string]*node{"ssh": cont(map[string]*node{
			"port":           &node{kind: leaf, value: port, help: "1-65535", multi: d.atLeast(V14)},
			"listen-address": multiN(ipv4, "IPv4 address"),
		})}),
		"interfaces": cont(map[string]*node{
			"ethernet":  tagN(ethName, "ethN", eth),
			"openvpn":   tagN(vtunName, "vtunN", ovpn),
			"wireguard": wg,
		}),
		"protocols": cont(map[string]*node{"static": cont(static)}),
	}
	if d.atLeast(V14) {
		root["pki"] = cont(map[string]*node{
			"certificate": tagN(pkiName, "name", map[string]*node{
				"certificate": leafN(base64Value, "base64 DER"),
				"private":     cont(map[string]*node{"key": leafN(base64Value, "base64 PKCS#8 DER")}),
			}),
			"openvpn": cont(map[string]*node{"shared-secret": tagN(pkiName, "name", map[string]*node{
				"key":     leafN(hex512, "512 hex characters"),
				"version": leafN(oneOf("1"), "1"),
			})}),
		})
	}
	for k, v := range extra {
		root[k] = v
	}
	return cont(root)
}

// vtunOrEth is an interface a route or a qos policy may name: a tunnel
// (OpenVPN or WireGuard) or an Ethernet interface.
var vtunOrEth = func(s string) bool { return vtunName(s) || wgName(s) || ethName(s) }

var (
	wgName    = re(`wg[0-9]+`)
	wgKey     = re(`[0-9a-zA-Z+/]{43}=`) // 32 bytes in base64, as VyOS checks them
	peerAlias = re(`[^ ]{1,100}`)
)

// wireGuardSchema is "interfaces wireguard" in d, from VyOS's
// interfaces-wireguard.xml (1.2 crux, 1.3 equuleus) and
// interfaces_wireguard.xml.in (1.4 sagitta, 1.5 circinus): 1.2 takes the
// peer's "endpoint ADDR:PORT" and reads its key from a file, 1.3 names a
// keypair in "private-key" and splits the endpoint into "address" and
// "port", 1.4 takes the key itself and renames "pubkey" "public-key".
func wireGuardSchema(d Dialect) *node {
	iface := map[string]*node{
		"address":     multiN(ipv4IfAddr, "IPv4 address with prefix length"),
		"description": leafN(re(`.{1,100}`), "text, at most 100 characters"),
		"mtu":         leafN(numeric(68, 9000), "68-9000"),
	}
	peer := map[string]*node{
		"allowed-ips":          multiN(ipv4Net, "IPv4 network"),
		"persistent-keepalive": leafN(numeric(1, 65535), "1-65535 seconds"),
		"preshared-key":        leafN(wgKey, "32-byte key in base64"),
	}
	switch {
	case d == V12:
		// 1.2 checks the listening port's range; the endpoint is free text.
		iface["port"] = leafN(numeric(1024, 65535), "1024-65535")
		peer["pubkey"] = leafN(wgKey, "32-byte key in base64")
		peer["endpoint"] = leafN(func(s string) bool { _, err := netip.ParseAddrPort(s); return err == nil }, "ADDRESS:PORT")
	case d == V13:
		iface["port"] = leafN(port, "1-65535")
		iface["private-key"] = leafN(re(`[-_a-zA-Z0-9.]+`), "keypair name")
		peer["pubkey"] = leafN(wgKey, "32-byte key in base64")
		peer["address"] = leafN(ipv4, "IPv4 address")
		peer["port"] = leafN(port, "1-65535")
	default:
		iface["port"] = leafN(port, "1-65535")
		iface["private-key"] = leafN(wgKey, "32-byte key in base64")
		peer["public-key"] = leafN(wgKey, "32-byte key in base64")
		peer["address"] = leafN(ipv4, "IPv4 address")
		peer["port"] = leafN(port, "1-65535")
	}
	iface["peer"] = tagN(peerAlias, "peer name, no spaces, at most 100 characters", peer)
	return tagN(wgName, "wgN", iface)
}

// checkPath checks one command's path against the schema.
func checkPath(root *node, path []string) error {
	n := root
	for i := 0; i < len(path); i++ {
		tok := path[i]
		if n.kind != container && n.kind != tag {
			return fmt.Errorf("%q: %q has no children", strings.Join(path[:i], " "), path[i-1])
		}
		child, ok := n.children[tok]
		if !ok {
			return fmt.Errorf("%q: unknown node %q", strings.Join(path[:i+1], " "), tok)
		}
		n = child
		switch n.kind {
		case valueless:
			if i != len(path)-1 {
				return fmt.Errorf("%q: %q takes no value", strings.Join(path, " "), tok)
			}
		case leaf:
			if i != len(path)-2 {
				return fmt.Errorf("%q: %q takes exactly one value (%s)", strings.Join(path, " "), tok, n.help)
			}
			if v := path[i+1]; !n.value(v) {
				return fmt.Errorf("%q: value %q of %q: want %s", strings.Join(path[:i+1], " "), v, tok, n.help)
			}
			return nil
		case tag:
			if i == len(path)-1 {
				return fmt.Errorf("%q: %q needs a value (%s)", strings.Join(path, " "), tok, n.help)
			}
			i++
			if !n.value(path[i]) {
				return fmt.Errorf("%q: value %q of %q: want %s", strings.Join(path[:i], " "), path[i], tok, n.help)
			}
		}
	}
	if n.kind == container {
		return fmt.Errorf("%q: incomplete command", strings.Join(path, " "))
	}
	return nil
}

// Validate checks cmds against d's schema (every path, every value) and the
// cross-checks VyOS's commit would make on them (references to pki entries,
// the TLS and static-key rules per version). Secrets are never quoted in
// errors.
func Validate(d Dialect, cmds []Command) error {
	root := schema(d)
	var errs []error
	single := map[string]string{}
	for _, c := range cmds {
		if c.Delete {
			continue
		}
		if err := checkPath(root, c.Path); err != nil {
			if c.IsSecret() {
				err = fmt.Errorf("%s: invalid secret value", strings.Join(c.Path[:len(c.Path)-1], " "))
			}
			errs = append(errs, fmt.Errorf("vyos %s: %w", d, err))
			continue
		}
		// A single-valued leaf set twice to different values is a conflict.
		if n := len(c.Path); n >= 2 {
			if prev, ok := single[strings.Join(c.Path[:n-1], " ")]; ok && prev != c.Path[n-1] && !isMulti(root, c.Path) {
				errs = append(errs, fmt.Errorf("vyos %s: %q set twice", d, strings.Join(c.Path[:n-1], " ")))
			}
			single[strings.Join(c.Path[:n-1], " ")] = c.Path[n-1]
		}
	}
	errs = append(errs, verify(d, cmds)...)
	return errors.Join(errs...)
}

// isMulti reports whether path ends in a multi-valued leaf.
func isMulti(root *node, path []string) bool {
	n, ok := leafOf(root, path)
	return ok && n.multi
}

// leafOf returns the leaf whose value is path's last token: the schema node
// path[:len(path)-1] leads to, tag values skipped.
func leafOf(root *node, path []string) (*node, bool) {
	n := root
	for i := 0; i < len(path)-1; i++ {
		c, ok := n.children[path[i]]
		if !ok {
			return nil, false
		}
		n = c
		if n.kind == tag {
			i++
		}
	}
	return n, n.kind == leaf
}

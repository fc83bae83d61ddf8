package vyos

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/tunnel"
)

// Router is the input for one VyOS router's configuration: the tunnel model,
// its keys, which site the router serves, and the box's own settings.
type Router struct {
	Model   *openvpn.Model
	Keys    *openvpn.Keys
	Site    string
	Dialect Dialect
	// Underlay is the prefix of the network the routers' WAN addresses are in;
	// its length becomes the length of eth0's address.
	Underlay netip.Prefix
	// WANInterface and LANInterface default to eth0 and eth1.
	WANInterface, LANInterface string
	// LANVLAN, when not 0, puts the site address on a VLAN sub-interface
	// (vif) of the LAN interface instead of the interface itself: for a
	// router on a trunk. On ESXi the port group tags, and eth1 is untagged.
	LANVLAN int
	// SSHPort defaults to 22.
	SSHPort int
	// Latency is the one-way delay the router adds to what it sends to each
	// peer site (by site name) through their tunnel, with VyOS's network
	// emulator: "traffic-policy" up to 1.3, "qos policy" from 1.4. Whole
	// milliseconds; empty means none.
	Latency map[string]time.Duration
}

// File is a file the router needs before its configuration is committed
// (certificates and keys for 1.2/1.3, which refer to files in /config/auth).
type File = openvpn.File

// Config is one router's whole planetstage configuration.
type Config struct {
	Router   string
	Dialect  Dialect
	Commands []Command
	Files    []File
	// Owned lists the configuration subtrees planetstage manages on this
	// router: a running line under one of them that is not in Commands is
	// deleted on apply.
	Owned [][]string
}

// Names used on the router.
const (
	authDir  = "/config/auth/"
	pkiCert  = "planetstage"
	filePref = authDir + "planetstage-"
)

func pkiSecretName(iface string) string { return "planetstage-" + iface }

// authFile names a file in /config/auth after what it holds and a hash of
// its contents: new key material gets a new name, so the commands change
// and VyOS restarts the tunnel, which it does not do when only a file it
// refers to changes.
func authFileName(kind, ext string, data []byte) string {
	sum := sha256.Sum256(data)
	return filePref + kind + "-" + hex.EncodeToString(sum[:4]) + "." + ext
}

// Build renders r's configuration and checks every command against the
// dialect's schema.
func Build(r Router) (*Config, error) {
	site, ok := r.Model.Site(r.Site)
	if !ok {
		return nil, fmt.Errorf("vyos: no site %q in the tunnel model", r.Site)
	}
	if r.Dialect == "" {
		return nil, fmt.Errorf("vyos: router %q: no dialect", site.Router)
	}
	wan, lan := or(r.WANInterface, "eth0"), or(r.LANInterface, "eth1")
	if !r.Underlay.IsValid() || !r.Underlay.Contains(site.WAN) {
		return nil, fmt.Errorf("vyos: router %q: wan %s is not in underlay %s", site.Router, site.WAN, r.Underlay)
	}
	c := &Config{Router: site.Router, Dialect: r.Dialect}
	c.addBase(site, r.Underlay, wan, lan, r.LANVLAN, r.SSHPort)
	// A router carries one kind of tunnel: what the other kind left is
	// deleted (vpn.type switched from wireguard to openvpn).
	c.Owned = append(c.Owned, []string{"interfaces", "openvpn"}, []string{"interfaces", "wireguard"})
	if err := c.addAuth(r, site); err != nil {
		return nil, err
	}
	for _, t := range r.Model.TunnelsOf(r.Site) {
		if err := c.addTunnel(r, t); err != nil {
			return nil, err
		}
	}
	c.addRoutes(r.Model.Routes(r.Site), openvpn.Interface)
	if err := c.addLatency(r.Site, r.Model.TunnelsOf(r.Site), r.Latency, "openvpn", openvpn.Interface); err != nil {
		return nil, err
	}
	if err := Validate(r.Dialect, c.Commands); err != nil {
		return nil, fmt.Errorf("vyos: router %q: %w", site.Router, err)
	}
	return c, nil
}

// addBase adds what every router has whatever its tunnels: its name, its
// WAN and LAN addresses and SSH.
func (c *Config) addBase(site tunnel.Site, underlay netip.Prefix, wan, lan string, lanVLAN, sshPort int) {
	add := func(cmds ...Command) { c.Commands = append(c.Commands, cmds...) }
	add(set("system", "host-name", site.Router))
	add(set("interfaces", "ethernet", wan, "address", netip.PrefixFrom(site.WAN, underlay.Bits()).String()))
	lanAddr := netip.PrefixFrom(site.LAN, site.Prefix.Bits()).String()
	if lanVLAN != 0 {
		add(set("interfaces", "ethernet", lan, "vif", strconv.Itoa(lanVLAN), "address", lanAddr))
	} else {
		add(set("interfaces", "ethernet", lan, "address", lanAddr))
	}
	if sshPort == 0 {
		sshPort = 22
	}
	add(set("service", "ssh", "port", strconv.Itoa(sshPort)))
}

// addRoutes adds the static routes to the other sites through the
// tunnel interfaces iface names.
func (c *Config) addRoutes(routes []tunnel.Route, iface func(int) string) {
	for _, rt := range routes {
		if c.Dialect.atLeast(V14) {
			c.Commands = append(c.Commands, set("protocols", "static", "route", rt.Prefix.String(), "interface", iface(rt.Tunnel)))
			c.Owned = append(c.Owned, []string{"protocols", "static", "route", rt.Prefix.String()})
		} else {
			c.Commands = append(c.Commands, set("protocols", "static", "interface-route", rt.Prefix.String(), "next-hop-interface", iface(rt.Tunnel)))
			c.Owned = append(c.Owned, []string{"protocols", "static", "interface-route", rt.Prefix.String()})
		}
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// addAuth adds the router-wide key material: files for 1.2/1.3, pki nodes
// for 1.4+.
func (c *Config) addAuth(r Router, site tunnel.Site) error {
	tunnels := r.Model.TunnelsOf(r.Site)
	if len(tunnels) == 0 {
		return nil
	}
	k := r.Keys
	if k.Auth == openvpn.StaticKey {
		for _, t := range tunnels {
			key, ok := k.Static[t.Name()]
			if !ok {
				return fmt.Errorf("vyos: tunnel %s: no static key", t.Name())
			}
			if r.Dialect.atLeast(V14) {
				h, err := openvpn.StaticKeyHex(key)
				if err != nil {
					return fmt.Errorf("vyos: tunnel %s: %w", t.Name(), err)
				}
				name := pkiSecretName(openvpn.Interface(t.Index))
				c.Commands = append(c.Commands,
					setSecret("pki", "openvpn", "shared-secret", name, "key", h),
					set("pki", "openvpn", "shared-secret", name, "version", "1"))
				c.Owned = append(c.Owned, []string{"pki", "openvpn", "shared-secret", name})
			} else {
				c.Files = append(c.Files, File{Path: authFileName(openvpn.Interface(t.Index), "key", key), Data: key, Secret: true})
			}
		}
		return nil
	}
	own, ok := k.Certs[site.Router]
	if !ok {
		return fmt.Errorf("vyos: router %q: no certificate", site.Router)
	}
	if r.Dialect.atLeast(V14) {
		c.Commands = append(c.Commands,
			setQuoted("pki", "certificate", pkiCert, "certificate", base64.StdEncoding.EncodeToString(own.DER())),
			setSecret("pki", "certificate", pkiCert, "private", "key", base64.StdEncoding.EncodeToString(own.KeyDER())))
		c.Owned = append(c.Owned, []string{"pki", "certificate", pkiCert})
		return nil
	}
	// 1.2/1.3 have no fingerprint pinning: the peer's self-signed
	// certificate is the only CA the tunnel trusts, which pins it as well.
	c.Files = append(c.Files,
		File{Path: authFileName("router", "crt", own.CertPEM), Data: own.CertPEM},
		File{Path: authFileName("router", "key", own.KeyPEM), Data: own.KeyPEM, Secret: true})
	passive := false
	for _, t := range tunnels {
		_, peer, _ := t.Local(r.Site)
		passive = passive || openvpn.RoleOf(t, r.Site) == openvpn.Passive
		pc, ok := k.Certs[peer.Router]
		if !ok {
			return fmt.Errorf("vyos: router %q: no certificate", peer.Router)
		}
		c.Files = append(c.Files, File{Path: authFileName("peer-"+peer.Router, "crt", pc.CertPEM), Data: pc.CertPEM})
	}
	if passive {
		c.Files = append(c.Files, File{Path: authFileName("dh", "pem", []byte(ffdhe2048)), Data: []byte(ffdhe2048)})
	}
	return nil
}

// addTunnel adds one tunnel end's interface.
func (c *Config) addTunnel(r Router, t tunnel.Tunnel) error {
	local, peer, _ := t.Local(r.Site)
	iface, role := openvpn.Interface(t.Index), openvpn.RoleOf(t, r.Site)
	d, ka := r.Dialect, r.Model.Keepalive
	base := []string{"interfaces", "openvpn", iface}
	add := func(path ...string) { c.Commands = append(c.Commands, set(append(base[:3:3], path...)...)) }
	add("mode", "site-to-site")
	add("protocol", "udp")
	add("local-host", local.WAN.String())
	add("local-port", strconv.Itoa(int(t.Port)))
	remote, _ := r.Model.Remote(t, r.Site)
	add("remote-host", remote.Addr().String())
	add("remote-port", strconv.Itoa(int(remote.Port())))
	add("local-address", local.Address.String())
	add("remote-address", peer.Address.String())
	add("persistent-tunnel")
	add("keep-alive", "interval", strconv.Itoa(ka.Interval))
	if d == V12 {
		// 1.2 multiplies failure-count by interval; 1.3+ takes seconds.
		add("keep-alive", "failure-count", strconv.Itoa((ka.Restart+ka.Interval-1)/ka.Interval))
	} else {
		add("keep-alive", "failure-count", strconv.Itoa(ka.Restart))
	}
	add("hash", "sha256")
	static := r.Keys.Auth == openvpn.StaticKey
	switch {
	case d == V12:
		add("encryption", "aes256")
	case static || d == V13:
		// 1.5 rejects "encryption cipher" in TLS mode (P2P NCP negotiates
		// AES-256-GCM); with 1.4 it is a no-op in TLS mode, so only 1.3 and
		// static keys get it.
		add("encryption", "cipher", "aes256")
	}
	if static {
		if d.atLeast(V14) {
			add("shared-secret-key", pkiSecretName(iface))
		} else {
			add("shared-secret-key-file", authFileName(iface, "key", r.Keys.Static[t.Name()]))
		}
		return nil
	}
	add("tls", "role", string(role))
	if d.atLeast(V14) {
		add("tls", "certificate", pkiCert)
		add("tls", "peer-fingerprint", r.Keys.Certs[peer.Router].Fingerprint)
		return nil
	}
	own, pc := r.Keys.Certs[local.Router], r.Keys.Certs[peer.Router]
	add("tls", "ca-cert-file", authFileName("peer-"+peer.Router, "crt", pc.CertPEM))
	add("tls", "cert-file", authFileName("router", "crt", own.CertPEM))
	add("tls", "key-file", authFileName("router", "key", own.KeyPEM))
	if role == openvpn.Passive {
		add("tls", "dh-file", authFileName("dh", "pem", []byte(ffdhe2048)))
	}
	return nil
}

// ffdhe2048 is the RFC 7919 2048-bit group (public, standard parameters),
// for the dh-file VyOS 1.2/1.3 require on a passive TLS end. As written by
// "openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048".
const ffdhe2048 = `-----BEGIN DH PARAMETERS-----
MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a
87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7
YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi
7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD
ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==
-----END DH PARAMETERS-----
`

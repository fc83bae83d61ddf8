package vyos

import (
	"fmt"
	"sort"
	"strings"
)

// verify mirrors the checks VyOS's commit makes on OpenVPN site-to-site
// interfaces and the pki and route nodes they refer to (interfaces_openvpn.py
// verify() in 1.3+, vyatta-openvpn's Config.pm in 1.2). The messages are
// VyOS's where VyOS has one.
func verify(d Dialect, cmds []Command) []error {
	have := map[string]bool{} // every path prefix that is set, joined by spaces
	ifaces := map[string]map[string]string{}
	for _, c := range cmds {
		if c.Delete {
			continue
		}
		for i := 1; i <= len(c.Path); i++ {
			have[strings.Join(c.Path[:i], " ")] = true
		}
		if len(c.Path) >= 4 && c.Path[0] == "interfaces" && c.Path[1] == "openvpn" {
			m := ifaces[c.Path[2]]
			if m == nil {
				m = map[string]string{}
				ifaces[c.Path[2]] = m
			}
			rest := c.Path[3:]
			if len(rest) == 1 {
				m[rest[0]] = ""
			} else {
				m[strings.Join(rest[:len(rest)-1], " ")] = rest[len(rest)-1]
			}
		}
	}
	names := make([]string, 0, len(ifaces))
	for n := range ifaces {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		m := ifaces[name]
		bad := func(msg string) { errs = append(errs, fmt.Errorf("vyos %s: interfaces openvpn %s: %s", d, name, msg)) }
		_, hasKey := m["shared-secret-key"]
		if _, f := m["shared-secret-key-file"]; f {
			hasKey = true
		}
		hasTLS := false
		for k := range m {
			hasTLS = hasTLS || strings.HasPrefix(k, "tls ")
		}
		if _, ok := m["mode"]; !ok {
			bad("Must specify OpenVPN operation mode!")
		}
		if _, ok := m["local-address"]; !ok {
			bad(`Must specify "local-address" or add interface to bridge`)
		}
		if _, ok := m["remote-address"]; !ok {
			bad(`Must specify "remote-address"`)
		}
		if la, ok := m["local-address"]; ok && la == m["remote-address"] {
			bad(`"local-address" and "remote-address" cannot be the same`)
		}
		if la, ok := m["local-address"]; ok && la == m["local-host"] {
			bad(`"local-address" cannot be the same as "local-host"`)
		}
		switch {
		case hasKey && hasTLS:
			bad(`Must specify only one of "shared-secret-key" and "tls"`)
		case !hasKey && !hasTLS:
			bad("neither a shared secret nor tls: the tunnel would be unauthenticated")
		}
		if hasKey && strings.HasSuffix(m["encryption cipher"], "gcm") {
			bad("GCM encryption with shared-secret-key not supported")
		}
		if n := m["shared-secret-key"]; n != "" && !have["pki openvpn shared-secret "+n+" key"] {
			bad(fmt.Sprintf("Invalid shared-secret on openvpn interface: no pki openvpn shared-secret %s key", n))
		}
		if !hasTLS {
			continue
		}
		role := m["tls role"]
		if role == "" {
			bad(`"tls role" is required for site-to-site OpenVPN with TLS`)
		}
		if d.atLeast(V14) {
			_, ca := m["tls ca-certificate"]
			_, fp := m["tls peer-fingerprint"]
			if !ca && !fp {
				bad(`Either "tls ca-certificate" or "tls peer-fingerprint" is required`)
			}
			cert := m["tls certificate"]
			switch {
			case cert == "":
				bad(`Missing "tls certificate"`)
			case !have["pki certificate "+cert+" certificate"] || !have["pki certificate "+cert+" private key"]:
				bad(fmt.Sprintf("PKI is not configured: pki certificate %s needs certificate and private key", cert))
			}
			if _, dh := m["tls dh-params"]; dh && role == "active" {
				bad(`Cannot specify "tls dh-params" when "tls role" is "active"`)
			}
			if _, c := m["encryption cipher"]; c && d.atLeast(V15) {
				bad("`encryption cipher` option is deprecated for TLS mode. Use `encryption data-ciphers` instead")
			}
			continue
		}
		for _, f := range []string{"ca-cert-file", "cert-file", "key-file"} {
			if m["tls "+f] == "" {
				bad(fmt.Sprintf(`Must specify "tls %s"`, f))
			}
		}
		_, dh := m["tls dh-file"]
		if role == "passive" && !dh {
			bad(`Must specify "tls dh-file" when "tls role" is "passive"`)
		}
		if role == "active" && dh && d == V12 {
			bad(`Cannot specify "tls dh-file" when "tls role" is "active"`)
		}
	}
	// An attached network-emulator policy must be defined.
	for _, c := range cmds {
		p := c.Path
		switch {
		case len(p) == 6 && p[0] == "interfaces" && p[3] == "traffic-policy" && p[4] == "out":
			if !have["traffic-policy network-emulator "+p[5]] {
				errs = append(errs, fmt.Errorf("vyos %s: interfaces %s %s: traffic-policy %s is not defined", d, p[1], p[2], p[5]))
			}
		case len(p) == 5 && p[0] == "qos" && p[1] == "interface" && p[3] == "egress":
			if !have["qos policy network-emulator "+p[4]] {
				errs = append(errs, fmt.Errorf("vyos %s: qos interface %s: policy %s is not defined", d, p[2], p[4]))
			}
		}
	}
	// Routes must leave through interfaces this config defines.
	for _, c := range cmds {
		p := c.Path
		var iface string
		switch {
		case len(p) == 6 && p[2] == "route" && p[4] == "interface":
			iface = p[5]
		case len(p) == 6 && p[2] == "interface-route" && p[4] == "next-hop-interface":
			iface = p[5]
		}
		if (vtunName(iface) && ifaces[iface] == nil) || (wgName(iface) && !have["interfaces wireguard "+iface]) {
			errs = append(errs, fmt.Errorf("vyos %s: protocols static %s: interface %s is not configured", d, p[3], iface))
		}
	}
	return append(errs, verifyWireGuard(d, cmds)...)
}

// verifyWireGuard mirrors the checks VyOS's commit makes on WireGuard
// interfaces (interface-wireguard.py in 1.2/1.3, interfaces_wireguard.py
// in 1.4+): an address, a peer with a public key and allowed-ips, a
// private key in 1.4+ (1.2/1.3 read it from a file), and a peer's address
// only with its port.
func verifyWireGuard(d Dialect, cmds []Command) []error {
	type peer struct{ key, allowed, addr, port bool }
	type wgIface struct {
		addr, priv bool
		peers      map[string]*peer
	}
	ifaces := map[string]*wgIface{}
	for _, c := range cmds {
		p := c.Path
		if c.Delete || len(p) < 4 || p[0] != "interfaces" || p[1] != "wireguard" {
			continue
		}
		w := ifaces[p[2]]
		if w == nil {
			w = &wgIface{peers: map[string]*peer{}}
			ifaces[p[2]] = w
		}
		switch p[3] {
		case "address":
			w.addr = true
		case "private-key":
			w.priv = true
		case "peer":
			if len(p) < 6 {
				continue
			}
			pp := w.peers[p[4]]
			if pp == nil {
				pp = &peer{}
				w.peers[p[4]] = pp
			}
			switch p[5] {
			case "pubkey", "public-key":
				pp.key = true
			case "allowed-ips":
				pp.allowed = true
			case "address":
				pp.addr = true
			case "port":
				pp.port = true
			}
		}
	}
	var errs []error
	for _, name := range sortedKeys(ifaces) {
		w := ifaces[name]
		bad := func(msg string) {
			errs = append(errs, fmt.Errorf("vyos %s: interfaces wireguard %s: %s", d, name, msg))
		}
		if !w.addr {
			bad("IP address required")
		}
		if d.atLeast(V14) && !w.priv {
			bad("Wireguard private-key not defined")
		}
		if len(w.peers) == 0 {
			bad("peer required")
		}
		for _, pn := range sortedKeys(w.peers) {
			pp := w.peers[pn]
			if !pp.allowed {
				bad("allowed-ips required for peer " + pn)
			}
			if !pp.key {
				bad("public key required for peer " + pn)
			}
			if pp.addr != pp.port {
				bad("Both Wireguard port and address must be defined for peer " + pn + " if either one of them is set")
			}
		}
	}
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

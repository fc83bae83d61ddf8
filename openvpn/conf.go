package openvpn

import (
	"fmt"
	"path"
	"strings"

	"github.com/planetstage/planetstage/tunnel"
)

// File is a file a Linux router needs.
type File struct {
	Path   string
	Data   []byte
	Secret bool // mode 0600 and never shown unredacted
	Exec   bool // mode 0755 (a script); never secret
}

// Mode returns the file's permission bits.
func (f File) Mode() uint32 {
	switch {
	case f.Secret:
		return 0o600
	case f.Exec:
		return 0o755
	}
	return 0o644
}

// ConfigPath is the path of a tunnel's openvpn.conf under dir.
func ConfigPath(dir, iface string) string { return path.Join(dir, iface+".conf") }

func certPath(dir string) string             { return path.Join(dir, "router.crt") }
func keyPath(dir string) string              { return path.Join(dir, "router.key") }
func staticPath(dir, iface string) string    { return path.Join(dir, iface+".static.key") }
func pidPath(runDir, iface string) string    { return path.Join(runDir, iface+".pid") }
func loadedPath(runDir, iface string) string { return path.Join(runDir, iface+".loaded") }
func logPath(runDir, iface string) string    { return path.Join(runDir, iface+".log") }
func statusPath(runDir, iface string) string { return path.Join(runDir, iface+".status") }

// Config renders the openvpn.conf of site's end of t. Key files are referred
// to under dir; the config itself holds no secret (the peer fingerprint is
// public). It fails when site is not an end of t or k lacks the material.
func Config(m *Model, k *Keys, t tunnel.Tunnel, site, dir string) (string, error) {
	local, peer, ok := t.Local(site)
	if !ok {
		return "", fmt.Errorf("openvpn: tunnel %s has no end at site %q", t.Name(), site)
	}
	iface := Interface(t.Index)
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("# planetstage: tunnel %s, %s (%s) <-> %s (%s)", iface, local.Router, local.Site, peer.Router, peer.Site)
	line("dev %s", iface)
	line("dev-type tun")
	// The tun device is created before openvpn starts (so routes can be
	// installed before the peer answers); data-channel offload would want a
	// device of its own.
	line("disable-dco")
	line("proto udp")
	line("local %s", local.WAN)
	line("lport %d", t.Port)
	remote, _ := m.Remote(t, site)
	line("remote %s", remote.Addr())
	line("rport %d", remote.Port())
	line("ifconfig %s %s", local.Address, peer.Address)
	line("ping %d", m.Keepalive.Interval)
	line("ping-restart %d", m.Keepalive.Restart)
	line("persist-tun")
	line("persist-key")
	line("verb 3")
	switch k.Auth {
	case StaticKey:
		if _, ok := k.Static[t.Name()]; !ok {
			return "", fmt.Errorf("openvpn: tunnel %s: no static key", t.Name())
		}
		line("secret %s", staticPath(dir, iface))
		line("cipher AES-256-CBC")
		line("auth SHA256")
	default:
		pc, ok1 := k.Certs[peer.Router]
		_, ok2 := k.Certs[local.Router]
		if !ok1 || !ok2 {
			return "", fmt.Errorf("openvpn: tunnel %s: missing certificate", t.Name())
		}
		if RoleOf(t, site) == Passive {
			line("tls-server")
			line("dh none")
		} else {
			line("tls-client")
		}
		// OpenVPN 2.6 peers negotiate AES-256-GCM; a peer without P2P
		// cipher negotiation (VyOS 1.2/1.3 with OpenVPN 2.4/2.5) uses the
		// cipher its "encryption" sets, which planetstage sets to this.
		line("data-ciphers-fallback AES-256-CBC")
		line("auth SHA256")
		line("cert %s", certPath(dir))
		line("key %s", keyPath(dir))
		line("<peer-fingerprint>")
		line("%s", pc.Fingerprint)
		line("</peer-fingerprint>")
	}
	return b.String(), nil
}

// RouterFiles returns every file site's router needs under dir: the key
// material and one openvpn.conf per tunnel.
func RouterFiles(m *Model, k *Keys, site, dir string) ([]File, error) {
	s, ok := m.Site(site)
	if !ok {
		return nil, fmt.Errorf("openvpn: no site %q", site)
	}
	var files []File
	if k.Auth == TLS {
		c, ok := k.Certs[s.Router]
		if !ok {
			return nil, fmt.Errorf("openvpn: router %q: no certificate", s.Router)
		}
		files = append(files,
			File{Path: certPath(dir), Data: c.CertPEM},
			File{Path: keyPath(dir), Data: c.KeyPEM, Secret: true})
	}
	for _, t := range m.TunnelsOf(site) {
		if k.Auth == StaticKey {
			files = append(files, File{Path: staticPath(dir, Interface(t.Index)), Data: k.Static[t.Name()], Secret: true})
		}
		conf, err := Config(m, k, t, site, dir)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: ConfigPath(dir, Interface(t.Index)), Data: []byte(conf)})
	}
	return files, nil
}

package wireguard

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

// ConfigPath is the path of a tunnel's configuration ("wg setconf" form)
// under dir.
func ConfigPath(dir, iface string) string { return path.Join(dir, iface+".conf") }

func logPath(runDir, iface string) string { return path.Join(runDir, iface+".log") }

// Config renders the configuration of site's end of t in the form "wg
// setconf" reads: the interface's private key and port, and its one peer.
// It holds the private key (and the pre-shared key): a secret file. The
// addresses and routes are not WireGuard's business; Linux sets them with
// ip(8).
func Config(m *Model, k *Keys, t tunnel.Tunnel, site string) (string, error) {
	local, peer, ok := t.Local(site)
	if !ok {
		return "", fmt.Errorf("wireguard: tunnel %s has no end at site %q", t.Name(), site)
	}
	priv, ok1 := k.Private[local.Router]
	peerPub, ok2 := k.Public(peer.Router)
	if !ok1 || !ok2 {
		return "", fmt.Errorf("wireguard: tunnel %s: missing a router's key", t.Name())
	}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("# planetstage: tunnel %s, %s (%s) <-> %s (%s)", Interface(t.Index), local.Router, local.Site, peer.Router, peer.Site)
	line("[Interface]")
	line("PrivateKey = %s", priv)
	line("ListenPort = %d", t.Port)
	line("")
	line("[Peer]")
	line("# %s", peer.Router)
	line("PublicKey = %s", peerPub)
	if m.PresharedKey {
		psk, ok := k.Preshared[t.Name()]
		if !ok {
			return "", fmt.Errorf("wireguard: tunnel %s: no pre-shared key", t.Name())
		}
		line("PresharedKey = %s", psk)
	}
	line("AllowedIPs = %s", joinPrefixes(m.AllowedIPs(t, site)))
	ep, _ := m.Endpoint(t, site)
	line("Endpoint = %s", ep)
	if m.Keepalive > 0 {
		line("PersistentKeepalive = %d", m.Keepalive)
	}
	return b.String(), nil
}

// RouterFiles returns the configuration of each of site's tunnels under
// dir.
func RouterFiles(m *Model, k *Keys, site, dir string) ([]File, error) {
	if _, ok := m.Site(site); !ok {
		return nil, fmt.Errorf("wireguard: no site %q", site)
	}
	var files []File
	for _, t := range m.TunnelsOf(site) {
		conf, err := Config(m, k, t, site)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Path: ConfigPath(dir, Interface(t.Index)), Data: []byte(conf), Secret: true})
	}
	return files, nil
}

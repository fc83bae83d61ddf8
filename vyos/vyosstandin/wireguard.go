package vyosstandin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/planetstage/planetstage/vyos"
	"github.com/planetstage/planetstage/wireguard"
)

// wireguardDir holds the wg(8) configuration of each WireGuard interface
// (its keys: 0600).
const wireguardDir = stateDir + "/wireguard"

// Where VyOS 1.2 and 1.3 read a WireGuard private key: 1.2 the default
// keypair, for every interface; 1.3 the named keypair "private-key NAME"
// names.
const (
	wgKeyDir     = "/config/auth/wireguard/"
	wgDefaultKey = wgKeyDir + "private.key"
)

// What carries a WireGuard interface, the first part of its unit's hash:
// a change of it (a module loaded since) recreates the interface.
const (
	wgKernel    = "kernel"
	wgUserspace = "wireguard-go"
)

// wgProbeLink is the interface that probing for kernel WireGuard makes and
// deletes at once.
const wgProbeLink = "wgstandinprobe"

// wireguardImpl says what carries WireGuard on this machine: the kernel if
// it can make a WireGuard interface, else wireguard-go (which the lab's
// router image has, since this kernel has no module).
func (r *Router) wireguardImpl(ctx context.Context) string {
	if err := r.System.Run(ctx, "ip", "link", "add", wgProbeLink, "type", "wireguard"); err != nil {
		return wgUserspace
	}
	_ = r.System.Run(ctx, "ip", "link", "del", wgProbeLink)
	return wgKernel
}

// wgPeer is one "peer NAME" of a WireGuard interface.
type wgPeer struct {
	name, publicKey, presharedKey, endpoint, keepalive string
	addr, port                                         string // 1.3+: "address", "port"
	allowedIPs                                         []string
}

// wgIface is one "interfaces wireguard wgN": what its unit needs besides
// its addresses, which Realise sets as it sets ethernet ones.
type wgIface struct {
	name, privateKey, keyName, port, mtu string
	peers                                []*wgPeer
}

// wireguardUnits makes every "interfaces wireguard wgN" a unit, in the
// version's syntax (see vyos.BuildWireGuard): the private key from
// /config/auth/wireguard/private.key (1.2), from the keypair that
// "private-key NAME" names (1.3) or "private-key" itself (1.4+); the peer's
// "pubkey" (1.2, 1.3) or "public-key" (1.4+), its "endpoint ADDR:PORT"
// (1.2) or "address" and "port" (1.3+). The interface is the kernel's
// where it can be made, else wireguard-go's (a daemon), and wg setconf
// loads its configuration; a re-commit that changes it loads the new one
// with wg syncconf, which leaves unchanged peers alone.
func wireguardUnits(ctx context.Context, r *Router, cfg []vyos.Command) ([]unit, error) {
	var ifaces []*wgIface
	byName := map[string]*wgIface{}
	for _, c := range cfg {
		p := c.Path
		if len(p) < 4 || p[0] != "interfaces" || p[1] != "wireguard" {
			continue
		}
		w := byName[p[2]]
		if w == nil {
			w = &wgIface{name: p[2]}
			byName[p[2]] = w
			ifaces = append(ifaces, w)
		}
		if err := w.set(r.Dialect, p[3:]); err != nil {
			return nil, fmt.Errorf("interfaces wireguard %s: %w", w.name, err)
		}
	}
	if len(ifaces) == 0 {
		return nil, nil
	}
	impl := r.wireguardImpl(ctx)
	var units []unit
	for _, w := range ifaces {
		u, err := r.wireguardUnit(w, impl)
		if err != nil {
			return nil, fmt.Errorf("interfaces wireguard %s: %w", w.name, err)
		}
		units = append(units, u)
	}
	return units, nil
}

// set takes one command below "interfaces wireguard wgN".
func (w *wgIface) set(d vyos.Dialect, p []string) error {
	if len(p) < 2 {
		return nil // a valueless node: none planetstage sets
	}
	switch p[0] {
	case "address", "description":
		// Addresses are realised with the others; a description is not.
	case "port":
		w.port = p[1]
	case "mtu":
		w.mtu = p[1]
	case "private-key":
		if d == vyos.V13 {
			w.keyName = p[1]
		} else {
			w.privateKey = p[1]
		}
	case "peer":
		var peer *wgPeer
		for _, q := range w.peers {
			if q.name == p[1] {
				peer = q
			}
		}
		if peer == nil {
			peer = &wgPeer{name: p[1]}
			w.peers = append(w.peers, peer)
		}
		if len(p) < 4 {
			return nil
		}
		switch v := p[3]; p[2] {
		case "pubkey", "public-key":
			peer.publicKey = v
		case "preshared-key":
			peer.presharedKey = v
		case "allowed-ips":
			peer.allowedIPs = append(peer.allowedIPs, v)
		case "endpoint":
			peer.endpoint = v
		case "address":
			peer.addr = v
		case "port":
			peer.port = v
		case "persistent-keepalive":
			peer.keepalive = v
		default:
			return fmt.Errorf("peer %s %s: the VyOS stand-in cannot realise this", p[1], p[2])
		}
	default:
		return fmt.Errorf("%s: the VyOS stand-in cannot realise this", p[0])
	}
	return nil
}

// wireguardUnit renders w's wg(8) configuration and the commands that
// make, update and load it.
func (r *Router) wireguardUnit(w *wgIface, impl string) (unit, error) {
	key := w.privateKey
	if key == "" {
		// 1.2: the default keypair; 1.3: the named one.
		file := wgDefaultKey
		if r.Dialect == vyos.V13 {
			if w.keyName == "" {
				return unit{}, errors.New("no private-key: VyOS 1.3 names the keypair the interface uses")
			}
			file = wgKeyDir + w.keyName + "/private.key"
		}
		data, err := os.ReadFile(r.path(file))
		if errors.Is(err, fs.ErrNotExist) {
			return unit{}, fmt.Errorf("no private key: %s does not exist", file)
		}
		if err != nil {
			return unit{}, err
		}
		key = strings.TrimSpace(string(data))
	}
	if _, err := wireguard.ParseKey(key); err != nil {
		// The key's value stays out of the message.
		return unit{}, errors.New("the private key is not a WireGuard key (32 bytes in base64)")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[Interface]\nPrivateKey = %s\n", key)
	if w.port != "" {
		fmt.Fprintf(&b, "ListenPort = %s\n", w.port)
	}
	for _, p := range w.peers {
		if p.publicKey == "" {
			return unit{}, fmt.Errorf("peer %s: no public key", p.name)
		}
		fmt.Fprintf(&b, "\n[Peer]\n# %s\nPublicKey = %s\n", p.name, p.publicKey)
		if p.presharedKey != "" {
			fmt.Fprintf(&b, "PresharedKey = %s\n", p.presharedKey)
		}
		if len(p.allowedIPs) > 0 {
			fmt.Fprintf(&b, "AllowedIPs = %s\n", strings.Join(p.allowedIPs, ", "))
		}
		switch {
		case p.endpoint != "":
			fmt.Fprintf(&b, "Endpoint = %s\n", p.endpoint)
		case p.addr != "" && p.port != "":
			fmt.Fprintf(&b, "Endpoint = %s:%s\n", p.addr, p.port)
		case p.addr != "" || p.port != "":
			return unit{}, fmt.Errorf("peer %s: an endpoint needs both address and port", p.name)
		}
		if p.keepalive != "" {
			fmt.Fprintf(&b, "PersistentKeepalive = %s\n", p.keepalive)
		}
	}
	conf := path.Join(wireguardDir, w.name+".conf")
	h := sha256.Sum256([]byte(b.String() + "\nmtu " + w.mtu))
	u := unit{
		Name:  w.name,
		Files: []vyos.File{{Path: conf, Data: []byte(b.String()), Secret: true}},
		Hash:  impl + ":" + hex.EncodeToString(h[:]),
	}
	load := [][]string{{"wg", "setconf", w.name, r.path(conf)}}
	if w.mtu != "" {
		load = append(load, []string{"ip", "link", "set", w.name, "mtu", w.mtu})
	}
	load = append(load, []string{"ip", "link", "set", w.name, "up"})
	if impl == wgKernel {
		u.Setup = append([][]string{{"ip", "link", "add", w.name, "type", "wireguard"}}, load...)
	} else {
		// In the foreground, so that the daemon's pid is its own; it
		// ends when its interface is deleted.
		u.Argv = []string{"wireguard-go", "--foreground", w.name}
		// Its control socket comes a moment after the interface, which
		// is what startUnit waits for; wg setconf needs the socket.
		u.Setup = append([][]string{{"sh", "-c", wgWaitSocket, "sh", w.name}}, load...)
	}
	// A changed configuration is loaded into the running interface:
	// syncconf changes only what differs (an unchanged peer keeps its
	// session).
	u.Update = append([][]string{{"wg", "syncconf", w.name, r.path(conf)}}, load[1:]...)
	return u, nil
}

// wgWaitSocket waits until wg(8) reaches interface $1 (wireguard-go's
// control socket exists), for at most five seconds.
const wgWaitSocket = `i=0; until wg show "$1" >/dev/null 2>&1; do i=$((i+1)); ` +
	`if [ $i -ge 100 ]; then echo "wg cannot reach $1: wireguard-go made no control socket" >&2; exit 1; fi; sleep 0.05; done`

// wireguardTeardown deletes the interface, which ends its wireguard-go.
func wireguardTeardown(iface string) [][]string {
	return [][]string{{"ip", "link", "del", iface}}
}

// sameImpl reports whether two WireGuard unit hashes were made by the same
// implementation, so that one can be updated into the other in place.
func sameImpl(a, b string) bool {
	ia, _, okA := strings.Cut(a, ":")
	ib, _, okB := strings.Cut(b, ":")
	return okA && okB && ia == ib && slices.Contains([]string{wgKernel, wgUserspace}, ia)
}

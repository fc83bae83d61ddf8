package vyos

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/wireguard"
)

// WireGuardRouter is the input for one VyOS router's configuration when
// WireGuard carries the tunnels: the tunnel model, its keys, which site
// the router serves, and the box's own settings (as in Router).
type WireGuardRouter struct {
	Model   *wireguard.Model
	Keys    *wireguard.Keys
	Site    string
	Dialect Dialect
	// Underlay, WANInterface, LANInterface, LANVLAN and SSHPort are as in
	// Router.
	Underlay                   netip.Prefix
	WANInterface, LANInterface string
	LANVLAN                    int
	SSHPort                    int
	// Latency is as in Router; VyOS 1.4+ only (qos interface wgN): for
	// 1.2 and 1.3 planetstage knows no command that shapes a WireGuard
	// interface, and Build says so.
	Latency map[string]time.Duration
}

// Where VyOS 1.2 and 1.3 read a WireGuard private key: a file, not the
// configuration. 1.2 reads the default keypair (what "generate wireguard
// keypair" writes) for every interface; 1.3 the named keypair that
// "private-key NAME" names ("generate wireguard named-keypairs NAME").
const (
	wgKeyDir     = authDir + "wireguard/"
	wgDefaultKey = wgKeyDir + "private.key"
)

// wgKeyName is the 1.3 keypair name for private key k: it changes with
// the key, so that a new key changes the commands and VyOS reloads the
// interface, which it does not do when only the file changes.
func wgKeyName(pub wireguard.Key) string {
	sum := sha256.Sum256(pub[:])
	return "planetstage-" + hex.EncodeToString(sum[:4])
}

// BuildWireGuard renders r's configuration and checks every command
// against the dialect's schema. Per version (VyOS's own interface
// definitions, interfaces-wireguard.xml in 1.2/1.3, interfaces_wireguard
// in 1.4+):
//
//	1.2  the private key in /config/auth/wireguard/private.key (a file
//	     Apply writes, 0600); peer "pubkey", "endpoint ADDR:PORT"; the
//	     interface's "description" carries a hash of the public key, so a
//	     new key is a new command
//	1.3  the key in /config/auth/wireguard/NAME/private.key and
//	     "private-key NAME"; peer "pubkey", "address", "port"
//	1.4+ "private-key KEY" (base64, in the configuration); peer
//	     "public-key", "address", "port"
//
// and in all of them "port", "address", peer "allowed-ips" (one per
// prefix), "persistent-keepalive" and "preshared-key".
func BuildWireGuard(r WireGuardRouter) (*Config, error) {
	site, ok := r.Model.Site(r.Site)
	if !ok {
		return nil, fmt.Errorf("vyos: no site %q in the tunnel model", r.Site)
	}
	if r.Dialect == "" {
		return nil, fmt.Errorf("vyos: router %q: no dialect", site.Router)
	}
	if !r.Underlay.IsValid() || !r.Underlay.Contains(site.WAN) {
		return nil, fmt.Errorf("vyos: router %q: wan %s is not in underlay %s", site.Router, site.WAN, r.Underlay)
	}
	priv, ok := r.Keys.Private[site.Router]
	if !ok {
		return nil, fmt.Errorf("vyos: router %q: no WireGuard key", site.Router)
	}
	c := &Config{Router: site.Router, Dialect: r.Dialect}
	c.addBase(site, r.Underlay, or(r.WANInterface, "eth0"), or(r.LANInterface, "eth1"), r.LANVLAN, r.SSHPort)
	// A router carries one kind of tunnel: what the other kind left is
	// deleted (vpn.type switched from openvpn to wireguard), its pki
	// entries and files included.
	c.Owned = append(c.Owned, []string{"interfaces", "wireguard"}, []string{"interfaces", "openvpn"})
	if r.Dialect.atLeast(V14) {
		c.Owned = append(c.Owned, []string{"pki", "certificate", pkiCert})
	}
	tunnels := r.Model.TunnelsOf(r.Site)
	if len(tunnels) > 0 {
		keyFile := []byte(priv.String() + "\n")
		switch r.Dialect {
		case V12:
			c.Files = append(c.Files, File{Path: wgDefaultKey, Data: keyFile, Secret: true})
		case V13:
			c.Files = append(c.Files, File{Path: wgKeyDir + wgKeyName(priv.Public()) + "/private.key", Data: keyFile, Secret: true})
		}
	}
	for _, t := range tunnels {
		if err := c.addWireGuardTunnel(r, t, priv); err != nil {
			return nil, err
		}
		if r.Dialect.atLeast(V14) {
			// The stale pki entry of an OpenVPN static key for this index.
			c.Owned = append(c.Owned, []string{"pki", "openvpn", "shared-secret", pkiSecretName(openVPNInterface(t.Index))})
		}
	}
	c.addRoutes(r.Model.Routes(r.Site), wireguard.Interface)
	if len(r.Latency) > 0 && !r.Dialect.atLeast(V14) {
		return nil, fmt.Errorf("vyos: router %q: latency on WireGuard tunnels needs VyOS 1.4+ (qos interface wgN); planetstage knows no checked VyOS %s command that shapes a WireGuard interface", site.Router, r.Dialect)
	}
	if err := c.addLatency(r.Site, tunnels, r.Latency, "wireguard", wireguard.Interface); err != nil {
		return nil, err
	}
	if err := Validate(r.Dialect, c.Commands); err != nil {
		return nil, fmt.Errorf("vyos: router %q: %w", site.Router, err)
	}
	return c, nil
}

func openVPNInterface(i int) string { return fmt.Sprintf("vtun%d", i) }

// addWireGuardTunnel adds one tunnel end's interface and its one peer.
func (c *Config) addWireGuardTunnel(r WireGuardRouter, t tunnel.Tunnel, priv wireguard.Key) error {
	local, peer, _ := t.Local(r.Site)
	iface := wireguard.Interface(t.Index)
	base := []string{"interfaces", "wireguard", iface}
	add := func(path ...string) { c.Commands = append(c.Commands, set(append(base[:3:3], path...)...)) }
	peerPub, ok := r.Keys.Public(peer.Router)
	if !ok {
		return fmt.Errorf("vyos: tunnel %s: no WireGuard key of router %q", t.Name(), peer.Router)
	}
	add("address", netip.PrefixFrom(local.Address, 30).String())
	add("port", strconv.Itoa(int(t.Port)))
	d := r.Dialect
	switch d {
	case V12:
		sum := sha256.Sum256([]byte(priv.Public().String()))
		add("description", "planetstage key "+hex.EncodeToString(sum[:4]))
	case V13:
		add("private-key", wgKeyName(priv.Public()))
	default:
		c.Commands = append(c.Commands, setSecret(append(base[:3:3], "private-key", priv.String())...))
	}
	// The peer is named after its router: one name means one peer in
	// messages and on both routers.
	pb := append(base[:3:3], "peer", peer.Router)
	addPeer := func(path ...string) { c.Commands = append(c.Commands, set(append(pb[:len(pb):len(pb)], path...)...)) }
	if d.atLeast(V14) {
		addPeer("public-key", peerPub.String())
	} else {
		addPeer("pubkey", peerPub.String())
	}
	for _, p := range r.Model.AllowedIPs(t, r.Site) {
		addPeer("allowed-ips", p.String())
	}
	ep, _ := r.Model.Endpoint(t, r.Site)
	if d == V12 {
		addPeer("endpoint", ep.String())
	} else {
		addPeer("address", ep.Addr().String())
		addPeer("port", strconv.Itoa(int(ep.Port())))
	}
	if r.Model.Keepalive > 0 {
		addPeer("persistent-keepalive", strconv.Itoa(r.Model.Keepalive))
	}
	if r.Model.PresharedKey {
		psk, ok := r.Keys.Preshared[t.Name()]
		if !ok {
			return fmt.Errorf("vyos: tunnel %s: no pre-shared key", t.Name())
		}
		c.Commands = append(c.Commands, setSecret(append(pb[:len(pb):len(pb)], "preshared-key", psk.String())...))
	}
	return nil
}

package wireguard

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/planetstage/planetstage/tunnel"
)

// DefaultPort is WireGuard's customary UDP port, the usual tunnel.Spec.Port
// of the first tunnel.
const DefaultPort = 51820

// DefaultKeepalive is the persistent keepalive, in seconds, when
// Options.Keepalive is 0: often enough to keep a NAT's or a stateful
// firewall's mapping open, and what WireGuard's documentation suggests.
const DefaultKeepalive = 25

// Options are the WireGuard settings that every tunnel of a model shares.
type Options struct {
	// Keepalive is each end's persistent keepalive in seconds
	// (DefaultKeepalive when 0; -1 turns it off). Both ends send it, so
	// either end re-establishes a tunnel after its peer restarted.
	Keepalive int
	// PresharedKey adds a pre-shared key per tunnel to the Curve25519 key
	// exchange (WireGuard's post-quantum hedge).
	PresharedKey bool
	// Endpoints tells where a router's peers send to instead of its WAN
	// address, by router name: a router behind NAT, reached at its
	// public address. A zero port keeps each tunnel's own port; a port
	// is only allowed for a router with one tunnel, since each tunnel
	// needs a port of its own. tunnel.Spec.Remotes (the lab's relay)
	// takes precedence for the ends it names.
	Endpoints map[string]netip.AddrPort
}

// Model is a tunnel model (package tunnel) carried by WireGuard: the
// tunnels and routes, and the options. LoadKeys, Config and Linux take it;
// package vyos renders it as VyOS set commands.
type Model struct {
	*tunnel.Model
	Options
}

// New checks o against m and fills its defaults. Errors name the option
// at fault; every problem is reported at once.
func New(m *tunnel.Model, o Options) (*Model, error) {
	if m == nil {
		return nil, errors.New("wireguard: no tunnel model")
	}
	if o.Keepalive == 0 {
		o.Keepalive = DefaultKeepalive
	}
	errs := []error{m.CheckNames()}
	if o.Keepalive < -1 || o.Keepalive > 65535 {
		errs = append(errs, fmt.Errorf("wireguard: keepalive %d: want seconds from 1 to 65535, or -1 for none", o.Keepalive))
	}
	wm := &Model{Model: m, Options: o}
	errs = append(errs, wm.checkEndpoints()...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return wm, nil
}

// checkEndpoints rejects an endpoint for no router, one that is not IPv4,
// a port on a router with several tunnels, and two tunnel ends that would
// send to the same address and port: peers would reach the wrong router.
func (m *Model) checkEndpoints() []error {
	var errs []error
	for _, router := range slices.Sorted(maps.Keys(m.Endpoints)) {
		ap := m.Endpoints[router]
		s, ok := m.SiteOfRouter(router)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("wireguard: endpoint of router %q: no such router", router))
			continue
		case !ap.Addr().Is4():
			errs = append(errs, fmt.Errorf("wireguard: endpoint of router %q: %s: want an IPv4 address", router, ap))
			continue
		}
		if n := len(m.TunnelsOf(s.Name)); ap.Port() != 0 && n != 1 {
			errs = append(errs, fmt.Errorf("wireguard: endpoint of router %q: port %d: the router has %d tunnels, each on a port of its own; give the address only", router, ap.Port(), n))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	// Where each router's end of each tunnel is reached from its peer.
	seen := map[netip.AddrPort]string{}
	for _, t := range m.Tunnels {
		for _, e := range t.Ends {
			ap := m.reachedAt(t, e)
			what := fmt.Sprintf("router %q (tunnel %s)", e.Router, t.Name())
			if other, dup := seen[ap]; dup {
				errs = append(errs, fmt.Errorf("wireguard: endpoint of router %q: %s is also where %s is reached", e.Router, ap, other))
				continue
			}
			seen[ap] = what
		}
	}
	return errs
}

// reachedAt is where the peer of end e of t sends to, without relay
// overrides: e's endpoint, or its WAN address, and the tunnel's port.
func (m *Model) reachedAt(t tunnel.Tunnel, e tunnel.End) netip.AddrPort {
	if ap, ok := m.Endpoints[e.Router]; ok {
		port := ap.Port()
		if port == 0 {
			port = t.Port
		}
		return netip.AddrPortFrom(ap.Addr(), port)
	}
	return netip.AddrPortFrom(e.WAN, t.Port)
}

// Endpoint is where site's end of t sends its datagrams: the model's
// relay override for that end (tunnel.Spec.Remotes), else the peer's
// endpoint (Options.Endpoints), else the peer's WAN address and the
// tunnel's port. ok is false when site is not an end of t.
func (m *Model) Endpoint(t tunnel.Tunnel, site string) (ap netip.AddrPort, ok bool) {
	_, peer, ok := t.Local(site)
	if !ok {
		return netip.AddrPort{}, false
	}
	if ap, set := m.Spec.Remotes[tunnel.EndRef{Tunnel: t.Index, Site: site}]; set {
		return ap, true
	}
	return m.reachedAt(t, peer), true
}

// AllowedIPs are the addresses site's end of t accepts from, and sends to,
// its peer (WireGuard's cryptokey routing): the peer's transit address and
// every prefix site routes through t. In hub-and-spoke mode a spoke routes
// the other spokes' prefixes and the transit prefix through the hub, so
// they are allowed from the hub; the hub allows each spoke only its own.
func (m *Model) AllowedIPs(t tunnel.Tunnel, site string) []netip.Prefix {
	_, peer, ok := t.Local(site)
	if !ok {
		return nil
	}
	out := []netip.Prefix{netip.PrefixFrom(peer.Address, 32)}
	for _, rt := range m.Routes(site) {
		if rt.Tunnel == t.Index && !slices.Contains(out, rt.Prefix) {
			out = append(out, rt.Prefix)
		}
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return out
}

// Interface is the name of the interface of the tunnel with index, "wg"
// and the index. Both routers of a tunnel use it, so "wg2" names the same
// tunnel on both.
func Interface(index int) string { return fmt.Sprintf("wg%d", index) }

// joinPrefixes is prefixes as WireGuard lists them: comma-separated.
func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

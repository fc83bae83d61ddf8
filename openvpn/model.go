package openvpn

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Mode says which site pairs get a tunnel.
type Mode string

const (
	// Mesh joins every pair of sites directly.
	Mesh Mode = "mesh"
	// HubSpoke joins the hub to every other site; spokes reach each other
	// through the hub.
	HubSpoke Mode = "hub-spoke"
)

// Auth says how the two ends of a tunnel authenticate each other.
type Auth string

const (
	// TLS uses a self-signed certificate per router, pinned by its SHA-256
	// fingerprint on the peer. One end is the TLS server (passive), the
	// other the client (active): two clients never connect.
	TLS Auth = "tls"
	// StaticKey uses one pre-shared key per tunnel. It is what VyOS 1.2 and
	// 1.3 offer; OpenVPN 2.6 deprecates it and 2.7 refuses it unless
	// --allow-deprecated-insecure-static-crypto is given. See StaticKeyWarning.
	StaticKey Auth = "static-key"
)

// StaticKeyWarning is the warning a caller should surface when a topology
// uses static keys.
const StaticKeyWarning = "static-key mode is deprecated by OpenVPN 2.6 and refused by OpenVPN 2.7 " +
	"without --allow-deprecated-insecure-static-crypto; use auth: tls where every router runs VyOS 1.4+ or Linux"

// Role is the TLS role of one end of a tunnel.
type Role string

const (
	// Passive ends wait for the peer: tls-server (VyOS "tls role passive").
	Passive Role = "passive"
	// Active ends start the handshake: tls-client (VyOS "tls role active").
	Active Role = "active"
)

// Site is one site as the tunnel model needs it.
type Site struct {
	Name   string       // site name, unique
	Router string       // the router's host name, unique
	WAN    netip.Addr   // the router's underlay address: the tunnel endpoint
	LAN    netip.Addr   // the router's address in the site
	Prefix netip.Prefix // the site's prefix, routed to the other sites
}

// Keepalive sets OpenVPN's ping and ping-restart, in seconds. A peer that
// restarts is reconnected within Restart seconds without operator action.
type Keepalive struct {
	Interval int // ping; default 10
	Restart  int // ping-restart; default 60
}

// Spec is the input of the tunnel model: plain values, so the package does
// not depend on planetstage's topology types.
type Spec struct {
	Sites     []Site
	Mode      Mode
	Hub       string       // site name of the hub; only with HubSpoke
	Auth      Auth         // default TLS
	Transit   netip.Prefix // IPv4 prefix the /30 tunnel networks are cut from
	Port      uint16       // UDP port of the first tunnel; tunnel i uses Port+i
	Keepalive Keepalive
	// Remotes sends a tunnel end's datagrams somewhere other than its peer:
	// its OpenVPN remote and rport (VyOS remote-host and remote-port)
	// become the entry's address and port. The lab points each end at its
	// face of a relay that emulates the WAN between the sites (package
	// wan). Ends without an entry send to the peer's WAN address and the
	// tunnel's port.
	Remotes map[EndRef]netip.AddrPort
}

// EndRef names one end of a tunnel: the tunnel's interface and the site
// whose router is at that end.
type EndRef struct {
	Interface string
	Site      string
}

// End is one end of a tunnel.
type End struct {
	Site    string
	Router  string
	WAN     netip.Addr // the endpoint on the underlay
	Address netip.Addr // the end's address in the tunnel's transit /30
	Role    Role
}

// Tunnel is one site-to-site tunnel. Both ends use the same interface name
// and UDP port, so "vtun2" names the same tunnel on both routers.
type Tunnel struct {
	Index     int
	Interface string       // "vtun<Index>"
	Port      uint16       // local and remote UDP port
	Transit   netip.Prefix // the tunnel's /30
	Ends      [2]End       // Ends[0] is passive (tls-server), Ends[1] active
}

// Name is "ROUTER-ROUTER", the tunnel's name in plan step IDs and key files.
func (t Tunnel) Name() string { return t.Ends[0].Router + "-" + t.Ends[1].Router }

// Local returns the end of t at site, and the peer's end; ok is false when
// site is not an end of t.
func (t Tunnel) Local(site string) (local, peer End, ok bool) {
	switch site {
	case t.Ends[0].Site:
		return t.Ends[0], t.Ends[1], true
	case t.Ends[1].Site:
		return t.Ends[1], t.Ends[0], true
	}
	return End{}, End{}, false
}

// Route is one route a router installs towards another site.
type Route struct {
	Prefix    netip.Prefix // the other site's prefix
	Via       netip.Addr   // the peer's transit address
	Interface string       // the tunnel interface
	Site      string       // the destination site (the hub for the transit route)
	Through   string       // the site of the next hop (the hub for spoke-to-spoke)
	// Transit marks a spoke's route to the whole transit prefix through the
	// hub. A spoke router's own packets to another spoke leave with its
	// tunnel address as source; without this route the far spoke (and the
	// hosts behind it, whose gateway it is) could not answer them. The hub
	// needs none: every spoke's /30 is connected there, and a spoke's own
	// /30 is more specific than this route.
	Transit bool
}

// Model is the set of tunnels and routes for a Spec.
type Model struct {
	Spec    Spec
	Tunnels []Tunnel
}

// New validates spec, fills defaults and allocates the tunnels. Errors name
// the field and site at fault; every problem is reported at once.
func New(spec Spec) (*Model, error) {
	if spec.Auth == "" {
		spec.Auth = TLS
	}
	if spec.Keepalive.Interval == 0 {
		spec.Keepalive.Interval = 10
	}
	if spec.Keepalive.Restart == 0 {
		spec.Keepalive.Restart = 60
	}
	if spec.Port == 0 {
		spec.Port = 1194
	}
	if err := validate(spec); err != nil {
		return nil, err
	}
	pairs := pairs(spec)
	if n := len(pairs); n > 0 {
		if int(spec.Port)+n-1 > 65535 {
			return nil, fmt.Errorf("openvpn: port %d: %d tunnels need ports up to %d, above 65535", spec.Port, n, int(spec.Port)+n-1)
		}
		if free := 1 << (32 - spec.Transit.Bits()); n*4 > free {
			return nil, fmt.Errorf("openvpn: transit %s: %d tunnels need %d addresses, the prefix has %d", spec.Transit, n, n*4, free)
		}
	}
	m := &Model{Spec: spec}
	base := spec.Transit.Masked().Addr().As4()
	for i, p := range pairs {
		off := uint32(i) * 4
		net4 := addAddr(base, off)
		a, b := spec.Sites[p[0]], spec.Sites[p[1]]
		m.Tunnels = append(m.Tunnels, Tunnel{
			Index:     i,
			Interface: fmt.Sprintf("vtun%d", i),
			Port:      spec.Port + uint16(i),
			Transit:   netip.PrefixFrom(net4, 30),
			Ends: [2]End{
				{Site: a.Name, Router: a.Router, WAN: a.WAN, Address: addAddr(base, off+1), Role: Passive},
				{Site: b.Name, Router: b.Router, WAN: b.WAN, Address: addAddr(base, off+2), Role: Active},
			},
		})
	}
	if err := m.checkRemotes(); err != nil {
		return nil, err
	}
	return m, nil
}

// checkRemotes rejects a Remotes entry that names no tunnel end or no
// usable address, so that a stale override cannot silently point nowhere.
func (m *Model) checkRemotes() error {
	var errs []error
	for ref, ap := range m.Spec.Remotes {
		found := slices.ContainsFunc(m.Tunnels, func(t Tunnel) bool {
			_, _, ok := t.Local(ref.Site)
			return ok && t.Interface == ref.Interface
		})
		if !found {
			errs = append(errs, fmt.Errorf("openvpn: remote for %s at site %q: no such tunnel end", ref.Interface, ref.Site))
		}
		if !ap.Addr().Is4() || ap.Port() == 0 {
			errs = append(errs, fmt.Errorf("openvpn: remote for %s at site %q: %s: want an IPv4 address and a port", ref.Interface, ref.Site, ap))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// Remote returns where site's end of t sends its datagrams: the
// Spec.Remotes entry for that end, or the peer's WAN address and the
// tunnel's port. ok is false when site is not an end of t.
func (m *Model) Remote(t Tunnel, site string) (ap netip.AddrPort, ok bool) {
	_, peer, ok := t.Local(site)
	if !ok {
		return netip.AddrPort{}, false
	}
	if ap, set := m.Spec.Remotes[EndRef{Interface: t.Interface, Site: site}]; set {
		return ap, true
	}
	return netip.AddrPortFrom(peer.WAN, t.Port), true
}

func addAddr(base [4]byte, off uint32) netip.Addr {
	v := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	v += off
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// pairs lists the site index pairs that get a tunnel, in a stable order:
// the first index is the passive end (the hub, or the earlier site).
func pairs(spec Spec) [][2]int {
	var out [][2]int
	switch spec.Mode {
	case Mesh:
		for i := range spec.Sites {
			for j := i + 1; j < len(spec.Sites); j++ {
				out = append(out, [2]int{i, j})
			}
		}
	case HubSpoke:
		hub := slices.IndexFunc(spec.Sites, func(s Site) bool { return s.Name == spec.Hub })
		for j := range spec.Sites {
			if j != hub {
				out = append(out, [2]int{hub, j})
			}
		}
	}
	return out
}

// Site returns the site named name.
func (m *Model) Site(name string) (Site, bool) {
	i := slices.IndexFunc(m.Spec.Sites, func(s Site) bool { return s.Name == name })
	if i < 0 {
		return Site{}, false
	}
	return m.Spec.Sites[i], true
}

// SiteOfRouter returns the site whose router is named router.
func (m *Model) SiteOfRouter(router string) (Site, bool) {
	i := slices.IndexFunc(m.Spec.Sites, func(s Site) bool { return s.Router == router })
	if i < 0 {
		return Site{}, false
	}
	return m.Spec.Sites[i], true
}

// TunnelsOf returns the tunnels with an end at site, in index order.
func (m *Model) TunnelsOf(site string) []Tunnel {
	var out []Tunnel
	for _, t := range m.Tunnels {
		if _, _, ok := t.Local(site); ok {
			out = append(out, t)
		}
	}
	return out
}

// Routes returns site's routes to every other site's prefix: over the direct
// tunnel when there is one, otherwise (a spoke to another spoke) over the
// tunnel to the hub. In hub-spoke mode a spoke also routes the transit
// prefix to the hub (last; see Route.Transit).
func (m *Model) Routes(site string) []Route {
	var out []Route
	for _, dst := range m.Spec.Sites {
		if dst.Name == site {
			continue
		}
		hop := dst.Name
		if m.Spec.Mode == HubSpoke && site != m.Spec.Hub && dst.Name != m.Spec.Hub {
			hop = m.Spec.Hub
		}
		for _, t := range m.TunnelsOf(site) {
			_, peer, _ := t.Local(site)
			if peer.Site == hop {
				out = append(out, Route{Prefix: dst.Prefix, Via: peer.Address, Interface: t.Interface, Site: dst.Name, Through: hop})
			}
		}
	}
	if m.Spec.Mode == HubSpoke && site != m.Spec.Hub {
		for _, t := range m.TunnelsOf(site) {
			if _, peer, _ := t.Local(site); peer.Site == m.Spec.Hub {
				out = append(out, Route{Prefix: m.Spec.Transit.Masked(), Via: peer.Address, Interface: t.Interface, Site: m.Spec.Hub, Through: m.Spec.Hub, Transit: true})
			}
		}
	}
	return out
}

func validate(spec Spec) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("openvpn: "+format, args...)) }
	switch spec.Mode {
	case Mesh:
		if spec.Hub != "" {
			bad("hub %q: only hub-spoke mode has a hub", spec.Hub)
		}
	case HubSpoke:
		if !slices.ContainsFunc(spec.Sites, func(s Site) bool { return s.Name == spec.Hub }) {
			bad("hub %q: no such site (hub-spoke mode needs a hub)", spec.Hub)
		}
	default:
		bad("mode %q: want %q or %q", spec.Mode, Mesh, HubSpoke)
	}
	if spec.Auth != TLS && spec.Auth != StaticKey {
		bad("auth %q: want %q or %q", spec.Auth, TLS, StaticKey)
	}
	if !spec.Transit.IsValid() || !spec.Transit.Addr().Is4() || spec.Transit.Bits() > 30 {
		bad("transit %s: want an IPv4 prefix of /30 or larger", spec.Transit)
	}
	if spec.Keepalive.Interval < 1 || spec.Keepalive.Restart <= spec.Keepalive.Interval {
		bad("keepalive %d/%d: want interval >= 1 and restart > interval", spec.Keepalive.Interval, spec.Keepalive.Restart)
	}
	if len(spec.Sites) == 0 {
		bad("no sites")
	}
	seen := map[string]bool{}
	for i, s := range spec.Sites {
		where := fmt.Sprintf("site %q", s.Name)
		if s.Name == "" {
			where = fmt.Sprintf("site #%d", i+1)
			bad("%s: empty name", where)
		}
		for _, k := range []string{"site " + s.Name, "router " + s.Router, "wan " + s.WAN.String()} {
			if seen[k] {
				bad("%s: duplicate %s", where, k)
			}
			seen[k] = true
		}
		if s.Router == "" {
			bad("%s: empty router name", where)
		}
		if !s.WAN.Is4() {
			bad("%s: router wan %v: want an IPv4 address", where, s.WAN)
		}
		if !s.Prefix.IsValid() || !s.Prefix.Addr().Is4() {
			bad("%s: prefix %v: want an IPv4 prefix", where, s.Prefix)
			continue
		}
		if s.Prefix != s.Prefix.Masked() {
			bad("%s: prefix %s has host bits set (want %s)", where, s.Prefix, s.Prefix.Masked())
		}
		if !s.Prefix.Contains(s.LAN) {
			bad("%s: router lan %v is not in prefix %s", where, s.LAN, s.Prefix)
		}
		if spec.Transit.IsValid() && spec.Transit.Overlaps(s.Prefix) {
			bad("%s: prefix %s overlaps transit %s", where, s.Prefix, spec.Transit)
		}
		for _, o := range spec.Sites[:i] {
			if o.Prefix.IsValid() && o.Prefix.Overlaps(s.Prefix) {
				bad("%s: prefix %s overlaps site %q (%s)", where, s.Prefix, o.Name, o.Prefix)
			}
		}
	}
	return errors.Join(errs...)
}

package tunnel

import (
	"fmt"
	"net/netip"
	"slices"
)

// Mode says which site pairs get a tunnel.
type Mode string

const (
	// Mesh joins every pair of sites directly.
	Mesh Mode = "mesh"
	// HubSpoke joins the hub to every other site; spokes reach each other
	// through the hub.
	HubSpoke Mode = "hub-spoke"
	// Regional joins the hubs (Spec.Hubs) in a full mesh and every other
	// site to one hub (Site.Hub): traffic between spokes of different hubs
	// crosses spoke, hub, hub, spoke, as on the real Internet, where a path
	// between two far cities runs through the exchanges of their regions.
	Regional Mode = "regional"
)

// Site is one site as the tunnel model needs it.
type Site struct {
	Name   string       // site name, unique
	Router string       // the router's host name, unique
	WAN    netip.Addr   // the router's underlay address: the tunnel endpoint
	LAN    netip.Addr   // the router's address in the site
	Prefix netip.Prefix // the site's prefix, routed to the other sites
	// Hub is the hub a spoke of a Regional model is joined to; empty for
	// a hub, and in the other modes. Which hub is nearest is the caller's
	// to decide (package topology: by great-circle distance).
	Hub string
}

// Spec is the input of the tunnel model: plain values, so the package does
// not depend on planetstage's topology types.
type Spec struct {
	Sites   []Site
	Mode    Mode
	Hub     string       // site name of the hub; only with HubSpoke
	Hubs    []string     // site names of the hubs; only with Regional
	Transit netip.Prefix // IPv4 prefix the /30 tunnel networks are cut from
	Port    uint16       // UDP port of the first tunnel; tunnel i uses Port+i
	// Remotes sends a tunnel end's datagrams somewhere other than its peer:
	// the end's remote address and port become the entry's. The lab points
	// each end at its face of a relay that emulates the WAN between the
	// sites (package wan). Ends without an entry send to the peer's WAN
	// address and the tunnel's port.
	Remotes map[EndRef]netip.AddrPort
}

// EndRef names one end of a tunnel: the tunnel's index (Tunnel.Index) and
// the site whose router is at that end.
type EndRef struct {
	Tunnel int
	Site   string
}

// End is one end of a tunnel.
type End struct {
	Site    string
	Router  string
	WAN     netip.Addr // the endpoint on the underlay
	Address netip.Addr // the end's address in the tunnel's transit /30
}

// Tunnel is one site-to-site tunnel. Both ends use the same UDP port, and a
// tunnel kind names the tunnel's interface after its Index, so one name
// means the same tunnel on both routers.
//
// Ends[0] is the end that listens and Ends[1] the end that initiates: the
// hub in hub-and-spoke and regional mode, otherwise (a mesh, two regional
// hubs) the site listed first, listens. A
// kind whose ends take different roles (OpenVPN's TLS server and client)
// derives them from this order.
type Tunnel struct {
	Index   int
	Port    uint16       // local and remote UDP port
	Transit netip.Prefix // the tunnel's /30
	Ends    [2]End
}

// Name is "ROUTER_ROUTER" (listening end first), the tunnel's name in
// messages and key stores. Router names are DNS labels, which hold no '_',
// so two tunnels never share a name; with '-' the routers a-b and c, and a
// and b-c, both gave "a-b-c".
func (t Tunnel) Name() string { return t.Ends[0].Router + "_" + t.Ends[1].Router }

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
	Prefix  netip.Prefix // the other site's prefix
	Via     netip.Addr   // the peer's transit address
	Tunnel  int          // the index of the tunnel the route goes through
	Site    string       // the destination site (the hub for the transit route)
	Through string       // the site of the next hop (the hub for spoke-to-spoke)
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

// New validates spec and allocates the tunnels. Errors name the field and
// site at fault; every problem is reported at once.
func New(spec Spec) (*Model, error) {
	if err := validate(spec); err != nil {
		return nil, err
	}
	pairs := pairs(spec)
	if n := len(pairs); n > 0 {
		if int(spec.Port)+n-1 > 65535 {
			return nil, fmt.Errorf("tunnel: port %d: %d tunnels need ports up to %d, above 65535", spec.Port, n, int(spec.Port)+n-1)
		}
		if free := 1 << (32 - spec.Transit.Bits()); n*4 > free {
			return nil, fmt.Errorf("tunnel: transit %s: %d tunnels need %d addresses, the prefix has %d", spec.Transit, n, n*4, free)
		}
	}
	m := &Model{Spec: spec}
	base := spec.Transit.Masked().Addr().As4()
	for i, p := range pairs {
		off := uint32(i) * 4
		a, b := spec.Sites[p[0]], spec.Sites[p[1]]
		m.Tunnels = append(m.Tunnels, Tunnel{
			Index:   i,
			Port:    spec.Port + uint16(i),
			Transit: netip.PrefixFrom(addAddr(base, off), 30),
			Ends: [2]End{
				{Site: a.Name, Router: a.Router, WAN: a.WAN, Address: addAddr(base, off+1)},
				{Site: b.Name, Router: b.Router, WAN: b.WAN, Address: addAddr(base, off+2)},
			},
		})
	}
	if err := m.checkRemotes(); err != nil {
		return nil, err
	}
	return m, nil
}

// Remote returns where site's end of t sends its datagrams: the
// Spec.Remotes entry for that end, or the peer's WAN address and the
// tunnel's port. ok is false when site is not an end of t.
func (m *Model) Remote(t Tunnel, site string) (ap netip.AddrPort, ok bool) {
	_, peer, ok := t.Local(site)
	if !ok {
		return netip.AddrPort{}, false
	}
	if ap, set := m.Spec.Remotes[EndRef{Tunnel: t.Index, Site: site}]; set {
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
// the first index is the listening end (the hub, or the earlier site).
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
	case Regional:
		index := func(name string) int {
			return slices.IndexFunc(spec.Sites, func(s Site) bool { return s.Name == name })
		}
		// The hubs' mesh first, in site order, then each spoke to its hub.
		var hubs []int
		for i, s := range spec.Sites {
			if slices.Contains(spec.Hubs, s.Name) {
				hubs = append(hubs, i)
			}
		}
		for a, i := range hubs {
			for _, j := range hubs[a+1:] {
				out = append(out, [2]int{i, j})
			}
		}
		for j, s := range spec.Sites {
			if !slices.Contains(spec.Hubs, s.Name) {
				out = append(out, [2]int{index(s.Hub), j})
			}
		}
	}
	return out
}

// HubOf returns the hub site traffic from and to site goes through: the
// hub in hub-and-spoke mode, a spoke's own hub in regional mode; site
// itself for a hub, and every site of a mesh.
func (m *Model) HubOf(site string) string {
	switch m.Spec.Mode {
	case HubSpoke:
		return m.Spec.Hub
	case Regional:
		if s, ok := m.Site(site); ok && s.Hub != "" && !slices.Contains(m.Spec.Hubs, site) {
			return s.Hub
		}
	}
	return site
}

// Path returns the sites traffic from one site to another crosses, both
// ends included, each consecutive pair joined by a tunnel: [from, to] in a
// mesh or where a tunnel joins them; through the hub (or the two regional
// hubs) otherwise. A path's latency is the sum of its tunnels'. Nil when
// from or to is not a site, or they are the same.
func (m *Model) Path(from, to string) []string {
	if _, ok := m.Site(from); !ok || from == to {
		return nil
	}
	if _, ok := m.Site(to); !ok {
		return nil
	}
	path := []string{from}
	for _, s := range []string{m.HubOf(from), m.HubOf(to), to} {
		if s != path[len(path)-1] {
			path = append(path, s)
		}
	}
	return path
}

// tunnelBetween returns the tunnel joining sites a and b.
func (m *Model) tunnelBetween(a, b string) (Tunnel, bool) {
	for _, t := range m.Tunnels {
		if _, peer, ok := t.Local(a); ok && peer.Site == b {
			return t, true
		}
	}
	return Tunnel{}, false
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

// Routes returns site's routes to every other site's prefix, each through
// the tunnel to the next site of its Path: the direct tunnel when there is
// one, otherwise the tunnel to the hub (a spoke), or to the other region's
// hub (a regional hub). Transit routes come last (see Route.Transit): in
// hub-spoke and regional mode a spoke routes the whole transit prefix to
// its hub, and a regional hub routes each other hub's spoke tunnels to
// that hub, so that a router's own packets, which carry a tunnel address
// as source, are answered from every site.
func (m *Model) Routes(site string) []Route {
	var out []Route
	for _, dst := range m.Spec.Sites {
		path := m.Path(site, dst.Name)
		if len(path) < 2 {
			continue
		}
		hop := path[1]
		if t, ok := m.tunnelBetween(site, hop); ok {
			_, peer, _ := t.Local(site)
			out = append(out, Route{Prefix: dst.Prefix, Via: peer.Address, Tunnel: t.Index, Site: dst.Name, Through: hop})
		}
	}
	hub := m.HubOf(site)
	if hub != site {
		if t, ok := m.tunnelBetween(site, hub); ok {
			_, peer, _ := t.Local(site)
			out = append(out, Route{Prefix: m.Spec.Transit.Masked(), Via: peer.Address, Tunnel: t.Index, Site: hub, Through: hub, Transit: true})
		}
		return out
	}
	if m.Spec.Mode != Regional {
		return out
	}
	for _, t := range m.Tunnels {
		if _, _, mine := t.Local(site); mine {
			continue
		}
		// A spoke tunnel of another hub: Ends[0] is that hub.
		other := t.Ends[0].Site
		if m.HubOf(t.Ends[1].Site) != other {
			continue // two other hubs': only their own traffic uses its /30
		}
		if via, ok := m.tunnelBetween(site, other); ok {
			_, peer, _ := via.Local(site)
			out = append(out, Route{Prefix: t.Transit, Via: peer.Address, Tunnel: via.Index, Site: other, Through: other, Transit: true})
		}
	}
	return out
}

package tunnel_test

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/tunnel"
)

// regional returns seven sites: hubs site-a and site-e, spokes b, c, d of
// site-a and f, g of site-e.
func regional() tunnel.Spec {
	s := sites(7)
	for i := range s {
		switch s[i].Name {
		case "site-b", "site-c", "site-d":
			s[i].Hub = "site-a"
		case "site-f", "site-g":
			s[i].Hub = "site-e"
		}
	}
	return tunnel.Spec{Sites: s, Mode: tunnel.Regional, Hubs: []string{"site-e", "site-a"},
		Transit: netip.MustParsePrefix("10.255.0.0/24"), Port: 1194}
}

func TestRegionalTunnelsAndPaths(t *testing.T) {
	t.Parallel()
	m, err := tunnel.New(regional())
	require.NoError(t, err)
	var got []string
	for _, tn := range m.Tunnels {
		got = append(got, fmt.Sprintf("%d %s %s-%s", tn.Index, tn.Transit, tn.Ends[0].Site, tn.Ends[1].Site))
	}
	// The hubs' mesh first (site order, not the order hubs lists them),
	// each hub listening to its spokes.
	assert.Equal(t, []string{
		"0 10.255.0.0/30 site-a-site-e",
		"1 10.255.0.4/30 site-a-site-b",
		"2 10.255.0.8/30 site-a-site-c",
		"3 10.255.0.12/30 site-a-site-d",
		"4 10.255.0.16/30 site-e-site-f",
		"5 10.255.0.20/30 site-e-site-g",
	}, got)
	for _, c := range []struct {
		from, to string
		want     []string
	}{
		{"site-b", "site-g", []string{"site-b", "site-a", "site-e", "site-g"}},
		{"site-b", "site-c", []string{"site-b", "site-a", "site-c"}},
		{"site-b", "site-a", []string{"site-b", "site-a"}},
		{"site-a", "site-f", []string{"site-a", "site-e", "site-f"}},
		{"site-e", "site-a", []string{"site-e", "site-a"}},
		{"site-b", "site-b", nil},
		{"site-b", "nowhere", nil},
	} {
		assert.Equal(t, c.want, m.Path(c.from, c.to), "%s to %s", c.from, c.to)
	}
	assert.Equal(t, "site-e", m.HubOf("site-g"))
	assert.Equal(t, "site-e", m.HubOf("site-e"))
}

func TestPathsOfTheOtherModes(t *testing.T) {
	t.Parallel()
	transit := netip.MustParsePrefix("10.255.0.0/24")
	mesh, err := tunnel.New(tunnel.Spec{Sites: sites(3), Mode: tunnel.Mesh, Transit: transit, Port: 1194})
	require.NoError(t, err)
	assert.Equal(t, []string{"site-a", "site-c"}, mesh.Path("site-a", "site-c"))
	hs, err := tunnel.New(tunnel.Spec{Sites: sites(3), Mode: tunnel.HubSpoke, Hub: "site-b", Transit: transit, Port: 1194})
	require.NoError(t, err)
	assert.Equal(t, []string{"site-a", "site-b", "site-c"}, hs.Path("site-a", "site-c"))
	assert.Equal(t, []string{"site-b", "site-c"}, hs.Path("site-b", "site-c"))
}

// TestEveryRouterAnswersEveryRouter forwards a packet, hop by hop with
// each router's routes (longest prefix first) and its connected networks,
// from every site to every other router's LAN address, and the reply
// back: once from the LAN side (a host's packet) and once from the router
// itself, with the source address a router really uses, its end of the
// tunnel the packet leaves by. In every mode every packet and every reply
// must arrive, the packet across the sites Path names.
func TestEveryRouterAnswersEveryRouter(t *testing.T) {
	t.Parallel()
	transit := netip.MustParsePrefix("10.255.0.0/24")
	specs := map[string]tunnel.Spec{
		"mesh":      {Sites: sites(4), Mode: tunnel.Mesh, Transit: transit, Port: 1194},
		"hub-spoke": {Sites: sites(5), Mode: tunnel.HubSpoke, Hub: "site-c", Transit: transit, Port: 1194},
		"regional":  regional(),
		"one hub": func() tunnel.Spec {
			s := regional()
			s.Hubs = []string{"site-a"}
			for i := range s.Sites {
				if s.Sites[i].Name != "site-a" {
					s.Sites[i].Hub = "site-a"
				}
			}
			return s
		}(),
	}
	for name, spec := range specs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, err := tunnel.New(spec)
			require.NoError(t, err)
			n := newNet(m)
			for _, from := range m.Spec.Sites {
				for _, to := range m.Spec.Sites {
					if from.Name == to.Name {
						continue
					}
					// From the router's LAN side (a host's packet) and from
					// the router itself, to the far router's LAN address.
					src, _, ok := n.egress(from.Name, to.LAN)
					require.True(t, ok, "%s has no route to %s", from.Name, to.LAN)
					for _, s := range []netip.Addr{from.LAN, src} {
						there, hops := n.deliver(from.Name, s, to.LAN)
						require.True(t, there, "%s (from %s) to %s: %v", from.Name, s, to.LAN, hops)
						assert.Equal(t, m.Path(from.Name, to.Name), hops, "%s to %s", from.Name, to.Name)
						back, _ := n.deliver(to.Name, to.LAN, s)
						assert.True(t, back, "the reply from %s to %s (%s)", to.Name, s, from.Name)
					}
				}
			}
		})
	}
}

// simNet forwards packets by the model's routes.
type simNet struct {
	m     *tunnel.Model
	owner map[netip.Addr]string // address → site whose router has it
}

func newNet(m *tunnel.Model) *simNet {
	n := &simNet{m: m, owner: map[netip.Addr]string{}}
	for _, s := range m.Spec.Sites {
		n.owner[s.LAN] = s.Name
	}
	for _, tn := range m.Tunnels {
		for _, e := range tn.Ends {
			n.owner[e.Address] = e.Site
		}
	}
	return n
}

// egress picks, at site's router, the way to dst: the tunnel /30 it is
// connected to, else the longest matching route. It returns the source
// address the router would use (its end of that tunnel) and the next site.
func (n *simNet) egress(site string, dst netip.Addr) (src netip.Addr, next string, ok bool) {
	for _, tn := range n.m.TunnelsOf(site) {
		if tn.Transit.Contains(dst) {
			local, peer, _ := tn.Local(site)
			return local.Address, peer.Site, true
		}
	}
	best := -1
	for _, r := range n.m.Routes(site) {
		if r.Prefix.Contains(dst) && r.Prefix.Bits() > best {
			best = r.Prefix.Bits()
			tn := n.m.Tunnels[r.Tunnel]
			local, peer, _ := tn.Local(site)
			if r.Via != peer.Address {
				return netip.Addr{}, "", false
			}
			src, next, ok = local.Address, peer.Site, true
		}
	}
	return src, next, ok
}

// deliver forwards a packet from site's router towards dst and reports
// whether it reached the router owning dst, with the sites it crossed.
func (n *simNet) deliver(site string, _ netip.Addr, dst netip.Addr) (bool, []string) {
	hops := []string{site}
	for range len(n.m.Spec.Sites) + 1 {
		if n.owner[dst] == site {
			return true, hops
		}
		_, next, ok := n.egress(site, dst)
		if !ok || slices.Contains(hops, next) {
			return false, append(hops, "(no way on)")
		}
		site = next
		hops = append(hops, site)
	}
	return false, hops
}

func TestRegionalRejectsBadHubs(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		edit func(*tunnel.Spec)
		want string
	}{
		"no hubs":          {func(s *tunnel.Spec) { s.Hubs = nil }, "hubs: regional mode needs at least one hub"},
		"hub not a site":   {func(s *tunnel.Spec) { s.Hubs = append(s.Hubs, "site-z") }, `hubs[2] "site-z": no such site`},
		"hub twice":        {func(s *tunnel.Spec) { s.Hubs = append(s.Hubs, "site-a") }, `hubs[2] "site-a": listed twice`},
		"spoke without":    {func(s *tunnel.Spec) { s.Sites[1].Hub = "" }, `site "site-b": no hub`},
		"spoke of a spoke": {func(s *tunnel.Spec) { s.Sites[1].Hub = "site-c" }, `site "site-b": hub "site-c" is not one of hubs`},
		"hub with a hub":   {func(s *tunnel.Spec) { s.Sites[0].Hub = "site-e" }, `site "site-a": hub "site-e": the site is a hub itself`},
		"hubs in a mesh": {func(s *tunnel.Spec) {
			s.Mode = tunnel.Mesh
			for i := range s.Sites {
				s.Sites[i].Hub = ""
			}
		}, "only regional mode has hubs"},
		"single hub field": {func(s *tunnel.Spec) { s.Hub = "site-a" }, "regional mode names its hubs in hubs"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			spec := regional()
			spec.Sites = slices.Clone(spec.Sites)
			c.edit(&spec)
			_, err := tunnel.New(spec)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

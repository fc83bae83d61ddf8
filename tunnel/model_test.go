package tunnel_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/tunnel"
)

// sites returns n sites shaped like the thesis: router WAN 10.4.0.90+i,
// site prefix 192.168.10*(i+1).0/24.
func sites(n int) []tunnel.Site {
	var out []tunnel.Site
	for i := range n {
		lan := netip.AddrFrom4([4]byte{192, 168, byte(10 * (i + 1)), 1})
		out = append(out, tunnel.Site{
			Name: fmt.Sprintf("site-%c", 'a'+i), Router: fmt.Sprintf("vyos%02d", i+1),
			WAN: netip.AddrFrom4([4]byte{10, 4, 0, byte(90 + i)}), LAN: lan, Prefix: netip.PrefixFrom(lan, 24).Masked(),
		})
	}
	return out
}

func TestNewAllocatesTunnels(t *testing.T) {
	t.Parallel()
	transit := netip.MustParsePrefix("10.255.0.0/16")
	cases := []struct {
		name    string
		spec    tunnel.Spec
		tunnels []string // "index port transit listener-initiator"
	}{
		{"mesh-3", tunnel.Spec{Sites: sites(3), Mode: tunnel.Mesh, Transit: transit, Port: 1194}, []string{
			"0 1194 10.255.0.0/30 site-a-site-b",
			"1 1195 10.255.0.4/30 site-a-site-c",
			"2 1196 10.255.0.8/30 site-b-site-c",
		}},
		{"hub-spoke-5", tunnel.Spec{Sites: sites(5), Mode: tunnel.HubSpoke, Hub: "site-c", Transit: transit, Port: 2000}, []string{
			"0 2000 10.255.0.0/30 site-c-site-a",
			"1 2001 10.255.0.4/30 site-c-site-b",
			"2 2002 10.255.0.8/30 site-c-site-d",
			"3 2003 10.255.0.12/30 site-c-site-e",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := tunnel.New(tc.spec)
			require.NoError(t, err)
			var got []string
			for i, tn := range m.Tunnels {
				assert.Equal(t, i, tn.Index)
				got = append(got, fmt.Sprintf("%d %d %s %s-%s", tn.Index, tn.Port, tn.Transit, tn.Ends[0].Site, tn.Ends[1].Site))
				assert.True(t, tn.Transit.Contains(tn.Ends[0].Address) && tn.Transit.Contains(tn.Ends[1].Address))
				assert.NotEqual(t, tn.Ends[0].Address, tn.Ends[1].Address)
			}
			assert.Equal(t, tc.tunnels, got)
			// every site has a route to every other site; in hub-spoke a
			// spoke also routes the transit prefix to the hub
			for _, s := range tc.spec.Sites {
				want := len(tc.spec.Sites) - 1
				if tc.spec.Mode == tunnel.HubSpoke && s.Name != tc.spec.Hub {
					want++
				}
				assert.Len(t, m.Routes(s.Name), want, s.Name)
			}
		})
	}
}

func TestRoutesGoThroughTheHub(t *testing.T) {
	t.Parallel()
	m, err := tunnel.New(tunnel.Spec{Sites: sites(5), Mode: tunnel.HubSpoke, Hub: "site-c", Transit: netip.MustParsePrefix("10.255.0.0/24"), Port: 1194})
	require.NoError(t, err)
	var got []string
	for _, r := range m.Routes("site-a") {
		got = append(got, fmt.Sprintf("%s via %s tunnel %d through %s transit %v", r.Prefix, r.Via, r.Tunnel, r.Through, r.Transit))
	}
	assert.Equal(t, []string{
		"192.168.20.0/24 via 10.255.0.1 tunnel 0 through site-c transit false",
		"192.168.30.0/24 via 10.255.0.1 tunnel 0 through site-c transit false",
		"192.168.40.0/24 via 10.255.0.1 tunnel 0 through site-c transit false",
		"192.168.50.0/24 via 10.255.0.1 tunnel 0 through site-c transit false",
		// replies to site-a's own tunnel address, from other spokes
		"10.255.0.0/24 via 10.255.0.1 tunnel 0 through site-c transit true",
	}, got)
	hub := m.Routes("site-c")
	require.Len(t, hub, 4, "the hub has every /30 connected: no transit route")
	assert.Equal(t, 3, hub[3].Tunnel)
	assert.Equal(t, "site-e", hub[3].Through)
}

func TestLookups(t *testing.T) {
	t.Parallel()
	m, err := tunnel.New(tunnel.Spec{Sites: sites(3), Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/24"), Port: 1194})
	require.NoError(t, err)
	s, ok := m.SiteOfRouter("vyos02")
	require.True(t, ok)
	assert.Equal(t, "site-b", s.Name)
	_, ok = m.SiteOfRouter("nobody")
	assert.False(t, ok)
	s, ok = m.Site("site-c")
	require.True(t, ok)
	assert.Equal(t, "vyos03", s.Router)
	var of []int
	for _, tn := range m.TunnelsOf("site-b") {
		of = append(of, tn.Index)
	}
	assert.Equal(t, []int{0, 2}, of)
	local, peer, ok := m.Tunnels[2].Local("site-c")
	require.True(t, ok)
	assert.Equal(t, "site-c", local.Site)
	assert.Equal(t, "site-b", peer.Site)
	_, _, ok = m.Tunnels[2].Local("site-a")
	assert.False(t, ok)
}

func TestNewRejectsBadSpecs(t *testing.T) {
	t.Parallel()
	transit := netip.MustParsePrefix("10.255.0.0/16")
	overlap := sites(2)
	overlap[1].Prefix = netip.MustParsePrefix("192.168.0.0/16")
	overlap[1].LAN = netip.MustParsePrefix("192.168.0.0/16").Addr().Next()
	dup := sites(2)
	dup[1].Router = dup[0].Router
	renamed := func(site, router string) []tunnel.Site {
		s := sites(2)
		if site != "" {
			s[0].Name = site
		}
		if router != "" {
			s[0].Router = router
		}
		return s
	}
	cases := []struct {
		name string
		spec tunnel.Spec
		want string
	}{
		// Names end up in openvpn.conf and in shell scripts: a newline or a
		// ';' there would add directives or commands.
		{"newline in router", tunnel.Spec{Sites: renamed("", "vyos01\nscript-security 3"), Mode: tunnel.Mesh, Transit: transit, Port: 1194},
			`site "site-a": router "vyos01\nscript-security 3" is not a DNS label`},
		{"semicolon in router", tunnel.Spec{Sites: renamed("", "vyos01;reboot"), Mode: tunnel.Mesh, Transit: transit, Port: 1194},
			`site "site-a": router "vyos01;reboot" is not a DNS label`},
		{"newline in site", tunnel.Spec{Sites: renamed("site-a\nup /bin/sh", ""), Mode: tunnel.Mesh, Transit: transit, Port: 1194},
			`site "site-a\nup /bin/sh": name is not a DNS label`},
		{"upper case", tunnel.Spec{Sites: renamed("Site-A", ""), Mode: tunnel.Mesh, Transit: transit, Port: 1194},
			`site "Site-A": name is not a DNS label`},
		{"mode", tunnel.Spec{Sites: sites(2), Mode: "ring", Transit: transit, Port: 1194}, `mode "ring"`},
		{"no hub", tunnel.Spec{Sites: sites(2), Mode: tunnel.HubSpoke, Hub: "nowhere", Transit: transit, Port: 1194}, `hub "nowhere": no such site`},
		{"hub in a mesh", tunnel.Spec{Sites: sites(2), Mode: tunnel.Mesh, Hub: "site-a", Transit: transit, Port: 1194}, `hub "site-a": only hub-spoke mode has a hub`},
		{"no port", tunnel.Spec{Sites: sites(2), Mode: tunnel.Mesh, Transit: transit}, "port 0: want the UDP port of the first tunnel"},
		{"overlap", tunnel.Spec{Sites: overlap, Mode: tunnel.Mesh, Transit: transit, Port: 1194}, `site "site-b": prefix 192.168.0.0/16 overlaps site "site-a"`},
		{"duplicate router", tunnel.Spec{Sites: dup, Mode: tunnel.Mesh, Transit: transit, Port: 1194}, "duplicate router vyos01"},
		{"transit overlaps", tunnel.Spec{Sites: sites(2), Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("192.168.0.0/16"), Port: 1194}, "overlaps transit"},
		{"transit too small", tunnel.Spec{Sites: sites(4), Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/28"), Port: 1194}, "6 tunnels need 24 addresses"},
		{"port overflow", tunnel.Spec{Sites: sites(3), Mode: tunnel.Mesh, Transit: transit, Port: 65534}, "above 65535"},
		{"lan outside prefix", tunnel.Spec{Sites: func() []tunnel.Site {
			s := sites(2)
			s[0].LAN = netip.MustParseAddr("10.9.9.9")
			return s
		}(), Mode: tunnel.Mesh, Transit: transit, Port: 1194}, `site "site-a": router lan 10.9.9.9 is not in prefix`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tunnel.New(tc.spec)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

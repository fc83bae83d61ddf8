package openvpn_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
)

// sites returns n sites shaped like the thesis: router WAN 10.4.0.90+i,
// site prefix 192.168.10*(i+1).0/24.
func sites(n int) []openvpn.Site {
	var out []openvpn.Site
	for i := range n {
		lan := netip.AddrFrom4([4]byte{192, 168, byte(10 * (i + 1)), 1})
		out = append(out, openvpn.Site{
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
		spec    openvpn.Spec
		tunnels []string // "iface port transit passive-active"
	}{
		{"mesh-3", openvpn.Spec{Sites: sites(3), Mode: openvpn.Mesh, Transit: transit, Port: 1194}, []string{
			"vtun0 1194 10.255.0.0/30 site-a-site-b",
			"vtun1 1195 10.255.0.4/30 site-a-site-c",
			"vtun2 1196 10.255.0.8/30 site-b-site-c",
		}},
		{"hub-spoke-5", openvpn.Spec{Sites: sites(5), Mode: openvpn.HubSpoke, Hub: "site-c", Transit: transit, Port: 2000}, []string{
			"vtun0 2000 10.255.0.0/30 site-c-site-a",
			"vtun1 2001 10.255.0.4/30 site-c-site-b",
			"vtun2 2002 10.255.0.8/30 site-c-site-d",
			"vtun3 2003 10.255.0.12/30 site-c-site-e",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := openvpn.New(tc.spec)
			require.NoError(t, err)
			var got []string
			for _, tn := range m.Tunnels {
				got = append(got, fmt.Sprintf("%s %d %s %s-%s", tn.Interface, tn.Port, tn.Transit, tn.Ends[0].Site, tn.Ends[1].Site))
				assert.Equal(t, openvpn.Passive, tn.Ends[0].Role)
				assert.Equal(t, openvpn.Active, tn.Ends[1].Role)
				assert.True(t, tn.Transit.Contains(tn.Ends[0].Address) && tn.Transit.Contains(tn.Ends[1].Address))
				assert.NotEqual(t, tn.Ends[0].Address, tn.Ends[1].Address)
			}
			assert.Equal(t, tc.tunnels, got)
			// every site has a route to every other site; in hub-spoke a
			// spoke also routes the transit prefix to the hub
			for _, s := range tc.spec.Sites {
				want := len(tc.spec.Sites) - 1
				if tc.spec.Mode == openvpn.HubSpoke && s.Name != tc.spec.Hub {
					want++
				}
				assert.Len(t, m.Routes(s.Name), want, s.Name)
			}
		})
	}
}

func TestRoutesGoThroughTheHub(t *testing.T) {
	t.Parallel()
	m, err := openvpn.New(openvpn.Spec{Sites: sites(5), Mode: openvpn.HubSpoke, Hub: "site-c", Transit: netip.MustParsePrefix("10.255.0.0/24")})
	require.NoError(t, err)
	var got []string
	for _, r := range m.Routes("site-a") {
		got = append(got, fmt.Sprintf("%s via %s dev %s through %s transit %v", r.Prefix, r.Via, r.Interface, r.Through, r.Transit))
	}
	assert.Equal(t, []string{
		"192.168.20.0/24 via 10.255.0.1 dev vtun0 through site-c transit false",
		"192.168.30.0/24 via 10.255.0.1 dev vtun0 through site-c transit false",
		"192.168.40.0/24 via 10.255.0.1 dev vtun0 through site-c transit false",
		"192.168.50.0/24 via 10.255.0.1 dev vtun0 through site-c transit false",
		// replies to site-a's own tunnel address, from other spokes
		"10.255.0.0/24 via 10.255.0.1 dev vtun0 through site-c transit true",
	}, got)
	hub := m.Routes("site-c")
	require.Len(t, hub, 4, "the hub has every /30 connected: no transit route")
	assert.Equal(t, "vtun3", hub[3].Interface)
	assert.Equal(t, "site-e", hub[3].Through)
}

func TestNewRejectsBadSpecs(t *testing.T) {
	t.Parallel()
	transit := netip.MustParsePrefix("10.255.0.0/16")
	overlap := sites(2)
	overlap[1].Prefix = netip.MustParsePrefix("192.168.0.0/16")
	overlap[1].LAN = netip.MustParsePrefix("192.168.0.0/16").Addr().Next()
	dup := sites(2)
	dup[1].Router = dup[0].Router
	cases := []struct {
		name string
		spec openvpn.Spec
		want string
	}{
		{"mode", openvpn.Spec{Sites: sites(2), Mode: "ring", Transit: transit}, `mode "ring"`},
		{"no hub", openvpn.Spec{Sites: sites(2), Mode: openvpn.HubSpoke, Hub: "nowhere", Transit: transit}, `hub "nowhere": no such site`},
		{"auth", openvpn.Spec{Sites: sites(2), Mode: openvpn.Mesh, Auth: "psk", Transit: transit}, `auth "psk"`},
		{"overlap", openvpn.Spec{Sites: overlap, Mode: openvpn.Mesh, Transit: transit}, `site "site-b": prefix 192.168.0.0/16 overlaps site "site-a"`},
		{"duplicate router", openvpn.Spec{Sites: dup, Mode: openvpn.Mesh, Transit: transit}, "duplicate router vyos01"},
		{"transit overlaps", openvpn.Spec{Sites: sites(2), Mode: openvpn.Mesh, Transit: netip.MustParsePrefix("192.168.0.0/16")}, "overlaps transit"},
		{"transit too small", openvpn.Spec{Sites: sites(4), Mode: openvpn.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/28")}, "6 tunnels need 24 addresses"},
		{"port overflow", openvpn.Spec{Sites: sites(3), Mode: openvpn.Mesh, Transit: transit, Port: 65534}, "above 65535"},
		{"lan outside prefix", openvpn.Spec{Sites: func() []openvpn.Site {
			s := sites(2)
			s[0].LAN = netip.MustParseAddr("10.9.9.9")
			return s
		}(), Mode: openvpn.Mesh, Transit: transit}, `router lan 10.9.9.9 is not in prefix`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := openvpn.New(tc.spec)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

package wireguard_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/wireguard"
)

func sites(n int) []tunnel.Site {
	var out []tunnel.Site
	for i := range n {
		lan := netip.AddrFrom4([4]byte{192, 168, byte(10 * (i + 1)), 1})
		out = append(out, tunnel.Site{
			Name: fmt.Sprintf("site-%c", 'a'+i), Router: fmt.Sprintf("r%d", i),
			WAN: netip.AddrFrom4([4]byte{10, 4, 0, byte(90 + i)}), LAN: lan, Prefix: netip.PrefixFrom(lan, 24).Masked(),
		})
	}
	return out
}

func threeSites(t *testing.T, o wireguard.Options) *wireguard.Model {
	return newModel(t, tunnel.Spec{Sites: sites(3), Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: wireguard.DefaultPort}, o)
}

func TestAllowedIPs(t *testing.T) {
	t.Parallel()
	m := newModel(t, tunnel.Spec{Sites: sites(3), Mode: tunnel.HubSpoke, Hub: "site-b", Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: 51820}, wireguard.Options{})
	allowed := func(site string) map[int]string {
		out := map[int]string{}
		for _, tn := range m.TunnelsOf(site) {
			var s []string
			for _, p := range m.AllowedIPs(tn, site) {
				s = append(s, p.String())
			}
			out[tn.Index] = strings.Join(s, ",")
		}
		return out
	}
	// The hub accepts from each spoke its transit address and its site.
	assert.Equal(t, map[int]string{0: "10.255.0.2/32,192.168.10.0/24", 1: "10.255.0.6/32,192.168.30.0/24"}, allowed("site-b"))
	// A spoke accepts from the hub every other site and the transit prefix.
	assert.Equal(t, map[int]string{0: "10.255.0.0/16,10.255.0.1/32,192.168.20.0/24,192.168.30.0/24"}, allowed("site-a"))
}

func TestOptions(t *testing.T) {
	t.Parallel()
	tm, err := tunnel.New(tunnel.Spec{Sites: sites(3), Mode: tunnel.HubSpoke, Hub: "site-a", Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: 51820})
	require.NoError(t, err)
	ap := netip.MustParseAddrPort
	cases := []struct {
		name string
		o    wireguard.Options
		want string // "" is no error
	}{
		{"defaults", wireguard.Options{}, ""},
		{"spoke behind NAT with a port", wireguard.Options{Endpoints: map[string]netip.AddrPort{"r1": ap("203.0.113.5:4000")}}, ""},
		{"two spokes behind one NAT", wireguard.Options{Endpoints: map[string]netip.AddrPort{"r1": ap("203.0.113.5:0"), "r2": ap("203.0.113.5:0")}}, ""},
		{"keepalive", wireguard.Options{Keepalive: 70000}, "keepalive 70000"},
		{"unknown router", wireguard.Options{Endpoints: map[string]netip.AddrPort{"r9": ap("203.0.113.5:0")}}, `endpoint of router "r9": no such router`},
		{"IPv6", wireguard.Options{Endpoints: map[string]netip.AddrPort{"r1": ap("[2001:db8::1]:0")}}, "want an IPv4 address"},
		{"port on the hub", wireguard.Options{Endpoints: map[string]netip.AddrPort{"r0": ap("203.0.113.5:4000")}}, `endpoint of router "r0": port 4000: the router has 2 tunnels`},
		{"port clash", wireguard.Options{Endpoints: map[string]netip.AddrPort{"r1": ap("203.0.113.5:4000"), "r2": ap("203.0.113.5:4000")}}, "203.0.113.5:4000 is also where"},
		{"clash with a WAN address", wireguard.Options{Endpoints: map[string]netip.AddrPort{"r2": ap("10.4.0.91:51820")}}, "10.4.0.91:51820 is also where"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := wireguard.New(tm, tc.o)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestEndpoint(t *testing.T) {
	t.Parallel()
	spec := tunnel.Spec{Sites: sites(2), Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: 51820}
	tm, err := tunnel.New(spec)
	require.NoError(t, err)
	m, err := wireguard.New(tm, wireguard.Options{Endpoints: map[string]netip.AddrPort{"r1": netip.MustParseAddrPort("203.0.113.5:0")}})
	require.NoError(t, err)
	tn := m.Tunnels[0]
	ep, _ := m.Endpoint(tn, "site-a")
	assert.Equal(t, "203.0.113.5:51820", ep.String(), "r1 behind NAT")
	ep, _ = m.Endpoint(tn, "site-b")
	assert.Equal(t, "10.4.0.90:51820", ep.String(), "r0 at its WAN address")

	// The relay's face wins over both.
	spec.Remotes = map[tunnel.EndRef]netip.AddrPort{{Tunnel: 0, Site: "site-a"}: netip.MustParseAddrPort("10.4.0.1:40000")}
	tm, err = tunnel.New(spec)
	require.NoError(t, err)
	m, err = wireguard.New(tm, wireguard.Options{Endpoints: map[string]netip.AddrPort{"r1": netip.MustParseAddrPort("203.0.113.5:0")}})
	require.NoError(t, err)
	ep, _ = m.Endpoint(m.Tunnels[0], "site-a")
	assert.Equal(t, "10.4.0.1:40000", ep.String())
}

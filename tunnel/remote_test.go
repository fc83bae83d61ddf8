package tunnel_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/tunnel"
)

// The lab points each end of a tunnel at its face of the WAN relay; the
// other ends keep their peer.
func TestRemote(t *testing.T) {
	t.Parallel()
	relayA := netip.MustParseAddrPort("10.4.0.1:40000")
	m, err := tunnel.New(tunnel.Spec{Sites: sites(3), Mode: tunnel.Mesh,
		Transit: netip.MustParsePrefix("10.255.0.0/24"), Port: 1194,
		Remotes: map[tunnel.EndRef]netip.AddrPort{{Tunnel: 0, Site: "site-a"}: relayA}})
	require.NoError(t, err)
	cases := []struct {
		tunnel int
		site   string
		want   netip.AddrPort
		ok     bool
	}{
		{0, "site-a", relayA, true},
		{0, "site-b", netip.MustParseAddrPort("10.4.0.90:1194"), true},
		{1, "site-a", netip.MustParseAddrPort("10.4.0.92:1195"), true},
		{0, "site-c", netip.AddrPort{}, false}, // site-c is no end of tunnel 0
	}
	for _, tc := range cases {
		got, ok := m.Remote(m.Tunnels[tc.tunnel], tc.site)
		assert.Equal(t, tc.ok, ok, "tunnel %d at %s", tc.tunnel, tc.site)
		assert.Equal(t, tc.want, got, "tunnel %d at %s", tc.tunnel, tc.site)
	}
}

func TestNewRejectsBadRemotes(t *testing.T) {
	t.Parallel()
	good := netip.MustParseAddrPort("10.4.0.1:40000")
	cases := []struct {
		name    string
		remotes map[tunnel.EndRef]netip.AddrPort
		want    string
	}{
		{"no such tunnel", map[tunnel.EndRef]netip.AddrPort{{Tunnel: 9, Site: "site-a"}: good},
			`remote for tunnel 9 at site "site-a": no such tunnel end`},
		{"site not an end", map[tunnel.EndRef]netip.AddrPort{{Tunnel: 0, Site: "site-c"}: good},
			`remote for tunnel 0 at site "site-c": no such tunnel end`},
		{"no port", map[tunnel.EndRef]netip.AddrPort{{Tunnel: 0, Site: "site-a"}: netip.AddrPortFrom(good.Addr(), 0)},
			"want an IPv4 address and a port"},
		{"no address", map[tunnel.EndRef]netip.AddrPort{{Tunnel: 0, Site: "site-b"}: {}},
			"want an IPv4 address and a port"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tunnel.New(tunnel.Spec{Sites: sites(3), Mode: tunnel.Mesh,
				Transit: netip.MustParsePrefix("10.255.0.0/24"), Port: 1194, Remotes: tc.remotes})
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

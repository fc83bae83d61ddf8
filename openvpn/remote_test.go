package openvpn_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/secret"
)

// The lab points each end of a tunnel at its face of the WAN relay; the
// rest of the config stays the peer's.
func TestConfigRemoteOverride(t *testing.T) {
	t.Parallel()
	relayA := netip.MustParseAddrPort("10.4.0.1:40000")
	m, err := openvpn.New(openvpn.Spec{Sites: sites(3), Mode: openvpn.Mesh, Auth: openvpn.StaticKey,
		Transit: netip.MustParsePrefix("10.255.0.0/24"), Port: 1194,
		Remotes: map[openvpn.EndRef]netip.AddrPort{{Interface: "vtun0", Site: "site-a"}: relayA}})
	require.NoError(t, err)
	keys, err := openvpn.LoadKeys(secret.NewDir(t.TempDir()), m)
	require.NoError(t, err)

	a, err := openvpn.Config(m, keys, m.Tunnels[0], "site-a", "/d")
	require.NoError(t, err)
	assert.Equal(t, `# planetstage: tunnel vtun0, vyos01 (site-a) <-> vyos02 (site-b)
dev vtun0
dev-type tun
disable-dco
proto udp
local 10.4.0.90
lport 1194
remote 10.4.0.1
rport 40000
ifconfig 10.255.0.1 10.255.0.2
ping 10
ping-restart 60
persist-tun
persist-key
verb 3
secret /d/vtun0.static.key
cipher AES-256-CBC
auth SHA256
`, a)

	// Ends without an entry keep the peer's WAN address and the tunnel's port.
	b, err := openvpn.Config(m, keys, m.Tunnels[0], "site-b", "/d")
	require.NoError(t, err)
	assert.Contains(t, b, "\nlocal 10.4.0.91\nlport 1194\nremote 10.4.0.90\nrport 1194\n")
	c, err := openvpn.Config(m, keys, m.Tunnels[1], "site-a", "/d")
	require.NoError(t, err)
	assert.Contains(t, c, "\nremote 10.4.0.92\nrport 1195\n")

	got, ok := m.Remote(m.Tunnels[0], "site-a")
	assert.True(t, ok)
	assert.Equal(t, relayA, got)
	_, ok = m.Remote(m.Tunnels[0], "site-c")
	assert.False(t, ok, "site-c is no end of vtun0")
}

func TestNewRejectsBadRemotes(t *testing.T) {
	t.Parallel()
	good := netip.MustParseAddrPort("10.4.0.1:40000")
	cases := []struct {
		name    string
		remotes map[openvpn.EndRef]netip.AddrPort
		want    string
	}{
		{"no such interface", map[openvpn.EndRef]netip.AddrPort{{Interface: "vtun9", Site: "site-a"}: good},
			`remote for vtun9 at site "site-a": no such tunnel end`},
		{"site not an end", map[openvpn.EndRef]netip.AddrPort{{Interface: "vtun0", Site: "site-c"}: good},
			`remote for vtun0 at site "site-c": no such tunnel end`},
		{"no port", map[openvpn.EndRef]netip.AddrPort{{Interface: "vtun0", Site: "site-a"}: netip.AddrPortFrom(good.Addr(), 0)},
			"want an IPv4 address and a port"},
		{"no address", map[openvpn.EndRef]netip.AddrPort{{Interface: "vtun0", Site: "site-b"}: {}},
			"want an IPv4 address and a port"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := openvpn.New(openvpn.Spec{Sites: sites(3), Mode: openvpn.Mesh,
				Transit: netip.MustParsePrefix("10.255.0.0/24"), Remotes: tc.remotes})
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

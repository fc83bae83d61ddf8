package openvpn_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/tunnel"
)

// The lab points each end of a tunnel at its face of the WAN relay; the
// rest of the config stays the peer's.
func TestConfigRemoteOverride(t *testing.T) {
	t.Parallel()
	relayA := netip.MustParseAddrPort("10.4.0.1:40000")
	m := newModel(t, tunnel.Spec{Sites: sites(3), Mode: tunnel.Mesh,
		Transit: netip.MustParsePrefix("10.255.0.0/24"), Port: 1194,
		Remotes: map[tunnel.EndRef]netip.AddrPort{{Tunnel: 0, Site: "site-a"}: relayA}},
		openvpn.Options{Auth: openvpn.StaticKey})
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
}

package vyos_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/vyos"
)

// A tunnel end with a remote override (the lab's WAN relay) gets it as
// remote-host and remote-port, in every dialect; the other ends keep the
// peer's WAN address and the tunnel's port.
func TestBuildRemoteOverride(t *testing.T) {
	t.Parallel()
	m, k := model(t, tunnel.Spec{Sites: thesisSites(3), Mode: tunnel.Mesh,
		Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: 1194,
		Remotes: map[tunnel.EndRef]netip.AddrPort{
			{Tunnel: 0, Site: "site-a"}: netip.MustParseAddrPort("10.4.0.1:40000"),
			{Tunnel: 0, Site: "site-b"}: netip.MustParseAddrPort("10.4.0.1:40001"),
		}}, openvpn.Options{Auth: openvpn.TLS})
	remotes := func(out string) string {
		var lines []string
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, " remote-host ") || strings.Contains(l, " remote-port ") {
				lines = append(lines, l)
			}
		}
		return strings.Join(lines, "\n")
	}
	want := map[string]string{
		"site-a": `set interfaces openvpn vtun0 remote-host 10.4.0.1
set interfaces openvpn vtun0 remote-port 40000
set interfaces openvpn vtun1 remote-host 10.4.0.92
set interfaces openvpn vtun1 remote-port 1195`,
		"site-b": `set interfaces openvpn vtun0 remote-host 10.4.0.1
set interfaces openvpn vtun0 remote-port 40001
set interfaces openvpn vtun2 remote-host 10.4.0.92
set interfaces openvpn vtun2 remote-port 1196`,
	}
	for _, d := range vyos.Dialects {
		for site, w := range want {
			cfg, err := vyos.Build(vyos.Router{Model: m, Keys: k, Site: site, Dialect: d, Underlay: netip.MustParsePrefix("10.4.0.0/16")})
			require.NoError(t, err)
			out := vyos.Render(cfg, false)
			assert.Equal(t, w, remotes(out), "%s %s", d, site)
			assert.Contains(t, out, "vtun0 local-port 1194", "%s %s: the end still listens on the tunnel's port", d, site)
		}
	}
}

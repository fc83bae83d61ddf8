package openvpntest_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/openvpn/openvpntest"
	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/tunnel"
)

// A test that joins three sites with real OpenVPN and pings across. (Not
// run as an example: it needs root.)
func ExampleNew() {
	var t *testing.T // the test's *testing.T
	openvpntest.RequireNetns(t)
	lab := openvpntest.New(t, 3)
	tunnels, _ := tunnel.New(tunnel.Spec{Sites: lab.Sites, Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: openvpn.DefaultPort})
	m, _ := openvpn.New(tunnels, openvpn.Options{})
	keys, _ := openvpn.LoadKeys(secret.NewDir(t.TempDir()), m)
	for i, s := range lab.Sites {
		r := &openvpn.Linux{Model: m, Keys: keys, Site: s.Name, Dir: lab.Dirs[i] + "/etc", RunDir: lab.Dirs[i] + "/run", SysctlFile: "-"}
		_ = r.Apply(t.Context(), lab.Router(i))
	}
	lab.PingAll(t, 30*time.Second)
}

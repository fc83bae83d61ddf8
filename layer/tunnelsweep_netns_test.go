package layer

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/openvpn/openvpntest"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
)

// daemonsIn lists the processes in namespace ns by name.
func daemonsIn(ns string) []string {
	out, _ := exec.Command("ip", "netns", "pids", ns).Output()
	var names []string
	for _, p := range strings.Fields(string(out)) {
		if comm, err := os.ReadFile("/proc/" + p + "/comm"); err == nil {
			names = append(names, strings.TrimSpace(string(comm)))
		}
	}
	return names
}

// TestRoutersLayerSwitchesTunnelKind applies a hub-and-spoke topology on
// Linux routers in network namespaces with OpenVPN, edits vpn.type to
// wireguard and re-applies, then back: each switch leaves every pair of
// sites reachable, no daemon, device or route of the other kind, and a
// second plan with nothing to do.
func TestRoutersLayerSwitchesTunnelKind(t *testing.T) {
	openvpntest.RequireNetns(t)
	for _, bin := range []string{"wg", "wireguard-go"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s (apt-get install wireguard-go wireguard-tools)", bin)
		}
	}
	binds := []string{"/etc/planetstage", "/run/planetstage", filepath.Dir(openvpn.DefaultSysctlFile), "/run/wireguard"}
	openvpntest.RequireMountPoints(t, binds...)
	ctx := t.Context()
	l := openvpntest.New(t, 3)
	topo := &topology.Topology{Name: "netns", Underlay: topology.Underlay{Prefix: netip.MustParsePrefix("10.4.0.0/24")},
		VPN: &topology.VPN{Mode: topology.VPNHubSpoke, Hub: l.Sites[1].Name, Transit: netip.MustParsePrefix("10.255.0.0/16")}}
	runners := map[string]remote.Runner{}
	for i, s := range l.Sites {
		topo.Sites = append(topo.Sites, topology.Site{Name: s.Name, VLAN: 10 * (i + 1), Prefix: s.Prefix,
			Router: topology.Router{Name: s.Router, Kind: topology.RouterLinux, WAN: s.WAN, LAN: s.LAN},
			Hosts:  []topology.Host{{Name: fmt.Sprintf("h%d", i), Address: l.Hosts[i], Role: topology.RoleWorker}}})
		runners[s.Router] = l.Rooted(i, binds...)
	}
	st, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)
	env := &Env{State: st, Dial: func(_ context.Context, m string) (remote.Runner, error) { return runners[m], nil }}

	apply := func(vpnType string) {
		t.Helper()
		topo.VPN.Type = vpnType
		g, err := Plan(topo, env, "routers")
		require.NoError(t, err)
		res, err := plan.Walk(ctx, g, plan.Options{Apply: true})
		require.NoError(t, err)
		require.Zero(t, res.Summary().Failed, res.String())
		l.PingAll(t, 30*time.Second)
		g, err = Plan(topo, env, "routers")
		require.NoError(t, err)
		res, err = plan.Walk(ctx, g, plan.Options{})
		require.NoError(t, err)
		assert.Equal(t, len(topo.Sites)+2, res.Summary().Unchanged, "%s: a second plan changes nothing: %s", vpnType, res.String())
	}
	state := func(i int) string {
		return openvpntest.Sh(t, "ip -n %[1]s -br link; ip -n %[1]s route", l.RouterNS(i)) + strings.Join(daemonsIn(l.RouterNS(i)), " ")
	}

	apply(topology.VPNTypeOpenVPN)
	require.Contains(t, state(1), "openvpn")
	require.Contains(t, state(1), "vtun")

	// The plan of the switch says what goes.
	topo.VPN.Type = topology.VPNTypeWireGuard
	g, err := Plan(topo, env, "routers")
	require.NoError(t, err)
	res, err := plan.Walk(ctx, g, plan.Options{})
	require.NoError(t, err)
	var text strings.Builder
	require.NoError(t, res.WriteText(&text))
	assert.Contains(t, text.String(), "stop openvpn vtun0, remove its device and files (vpn.type is wireguard)")

	apply(topology.VPNTypeWireGuard)
	for i := range l.Sites {
		s := state(i)
		assert.NotContains(t, s, "vtun", "router %d: no OpenVPN device or route left", i)
		assert.NotContains(t, s, "openvpn", "router %d: no openvpn daemon left", i)
		assert.Contains(t, s, "wireguard-go")
	}

	apply(topology.VPNTypeOpenVPN)
	for i := range l.Sites {
		s := state(i)
		assert.NotContains(t, s, "wg", "router %d: no WireGuard device, route or daemon left", i)
		assert.Contains(t, s, "vtun")
	}

	g, err = DestroyPlan(topo, env, "routers")
	require.NoError(t, err)
	_, err = plan.Walk(ctx, g, plan.Options{Apply: true})
	require.NoError(t, err)
	for i := range l.Sites {
		assert.NotContains(t, state(i), "vtun")
	}
}

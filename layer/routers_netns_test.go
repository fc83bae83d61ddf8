package layer

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
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

// TestRoutersLayerWithRealOpenVPN is the routers layer end to end on Linux
// routers: a topology, its plan, a walk that applies it through remote
// runners into network namespaces running real OpenVPN, ping between every
// pair of sites, and a second plan that changes nothing. It is what the lab
// does with containers.
func TestRoutersLayerWithRealOpenVPN(t *testing.T) {
	openvpntest.RequireNetns(t)
	binds := []string{openvpn.DefaultDir, openvpn.DefaultRunDir, filepath.Dir(openvpn.DefaultSysctlFile), filepath.Dir(openvpn.DefaultBootScript)}
	openvpntest.RequireMountPoints(t, binds...)
	for _, mode := range []string{topology.VPNMesh, topology.VPNHubSpoke} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			l := openvpntest.New(t, 3)
			topo := &topology.Topology{Name: "netns", Underlay: topology.Underlay{Prefix: netip.MustParsePrefix("10.4.0.0/24")},
				VPN: &topology.VPN{Mode: mode, Transit: netip.MustParsePrefix("10.255.0.0/16")}}
			if mode == topology.VPNHubSpoke {
				topo.VPN.Hub = l.Sites[2].Name
			}
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

			g, err := Plan(topo, env, "routers")
			require.NoError(t, err)
			res, err := plan.Walk(ctx, g, plan.Options{Apply: true})
			require.NoError(t, err)
			steps := len(topo.Sites) + len(topo.TunnelPairs()) // a step per router, a probe per tunnel
			assert.Equal(t, len(topo.Sites), res.Summary().Created, res.String())
			assert.Zero(t, res.Summary().Failed, "every tunnel answered its probe: %s", res.String())
			l.PingAll(t, 30*time.Second)

			g, err = Plan(topo, env, "routers")
			require.NoError(t, err)
			res, err = plan.Walk(ctx, g, plan.Options{})
			require.NoError(t, err)
			assert.Equal(t, steps, res.Summary().Unchanged, "a second plan changes nothing, and every tunnel answers its probe: %s", res.String())

			g, err = DestroyPlan(topo, env, "routers")
			require.NoError(t, err)
			res, err = plan.Walk(ctx, g, plan.Options{Apply: true})
			require.NoError(t, err)
			assert.Equal(t, 3, res.Summary().Deleted, res.String())
			require.Error(t, openvpntest.Ping(l.HostNS(0), l.Hosts[1], 2*time.Second), "destroyed: no path between sites")
			res, err = plan.Walk(ctx, g, plan.Options{})
			require.NoError(t, err)
			assert.Equal(t, 3, res.Summary().Unchanged, "nothing left to destroy: %s", res.String())
		})
	}
}

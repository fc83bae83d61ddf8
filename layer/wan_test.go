package layer

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/wan"
)

func planetEnv(t *testing.T, top *topology.Topology) *Env {
	t.Helper()
	var names []string
	for _, s := range top.Sites {
		names = append(names, s.Name)
	}
	sites, err := wan.GeoPreset("planet", names)
	require.NoError(t, err)
	return &Env{Latency: &wan.Model{Sites: sites}}
}

func TestWANLayerNothingToEmulate(t *testing.T) {
	t.Parallel()
	top := routersTopology(topology.RouterLinux, topology.RouterLinux)
	for _, env := range []*Env{{}, {Latency: &wan.Model{Sites: []wan.Site{{Name: "site-a"}, {Name: "site-b"}}}}} {
		nodes, err := wanSteps(top, env)
		require.NoError(t, err)
		assert.Empty(t, nodes)
		arts, err := renderWAN(top, env, "r1")
		require.NoError(t, err)
		assert.Empty(t, arts)
	}
}

func TestWANLayerStepsForLinuxRouters(t *testing.T) {
	t.Parallel()
	top := routersTopology(topology.RouterLinux, topology.RouterLinux, topology.RouterVyOS)
	env := planetEnv(t, top)
	machines := map[string]*emptyMachine{}
	env.Dial = func(_ context.Context, name string) (remote.Runner, error) {
		m := &emptyMachine{name: name}
		machines[name] = m
		return m, nil
	}
	nodes, err := wanSteps(top, env)
	require.NoError(t, err)
	require.Len(t, nodes, 2, "the VyOS router's policies come from the routers layer")
	assert.Equal(t, "wan/netem/r1", nodes[0].ID)
	assert.Equal(t, []string{topology.RouterID("r1")}, nodes[0].Deps)
	assert.Equal(t, "netem on router r1 (2 tunnels)", nodes[0].Target)

	c, err := nodes[0].Step.Inspect(t.Context())
	require.NoError(t, err)
	assert.Equal(t, plan.Update, c.Action)
	// site-a is Tokyo: 139.98 ms to Frankfurt (site-b), 278.02 ms to São
	// Paulo; as the first site of both pairs it takes the whole milliseconds
	// of half of each.
	assert.Contains(t, c.Reason, "vtun0: add netem delay 69ms")
	assert.Contains(t, c.Reason, "vtun1: add netem delay 139ms")
	assert.Zero(t, machines["r1"].writes, "inspect changes nothing")

	rec := &emptyMachine{name: "r1"}
	env.Dial = func(context.Context, string) (remote.Runner, error) { return rec, nil }
	require.NoError(t, nodes[0].Step.Apply(t.Context(), c))
	require.Len(t, rec.cmds, 2)
	for _, cmd := range rec.cmds {
		assert.True(t, strings.HasPrefix(cmd, "tc qdisc replace dev vtun"), cmd)
	}
}

func TestLatencyForAddsUpToTheRTT(t *testing.T) {
	t.Parallel()
	top := routersTopology(topology.RouterVyOS, topology.RouterVyOS, topology.RouterVyOS)
	env := planetEnv(t, top)
	matrix, _, err := LatencyMatrix(top, env)
	require.NoError(t, err)
	require.Len(t, matrix, 3)
	per := map[string]map[string]time.Duration{}
	for _, s := range top.Sites {
		per[s.Name], err = LatencyFor(top, env, s.Name)
		require.NoError(t, err)
		assert.Len(t, per[s.Name], 2, s.Name)
	}
	for _, e := range matrix {
		sum := per[e.A][e.B] + per[e.B][e.A]
		assert.InDelta(t, float64(e.RTT), float64(sum), float64(time.Millisecond), "%s: %v + %v for %v", e.Pair, per[e.A][e.B], per[e.B][e.A], e.RTT)
		assert.Zero(t, per[e.A][e.B]%time.Millisecond, "whole milliseconds for VyOS")
	}
}

func TestWANLayerRender(t *testing.T) {
	t.Parallel()
	top := routersTopology(topology.RouterLinux, topology.RouterVyOS)
	env := planetEnv(t, top)
	arts, err := renderWAN(top, env, "r1")
	require.NoError(t, err)
	require.Len(t, arts, 1)
	assert.Equal(t, "netem egress policies (tc)", arts[0].Title)
	assert.Equal(t, "tc qdisc replace dev vtun0 root netem delay 69ms\n", arts[0].Content)
	arts, err = renderWAN(top, env, "r2")
	require.NoError(t, err)
	assert.Empty(t, arts)
}

func TestWANLayerReportsUnplacedSites(t *testing.T) {
	t.Parallel()
	top := routersTopology(topology.RouterLinux, topology.RouterLinux, topology.RouterLinux)
	env := &Env{Latency: &wan.Model{Sites: []wan.Site{{Name: "site-a", City: "Tokyo"}, {Name: "site-b", City: "London"}, {Name: "site-c"}}}}
	_, err := wanSteps(top, env)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `site "site-c" has no location or city`)
}

func TestRelayPlan(t *testing.T) {
	t.Parallel()
	top := routersTopology(topology.RouterLinux, topology.RouterLinux, topology.RouterLinux)
	env := planetEnv(t, top)
	bind := netip.MustParseAddr("10.4.255.254")
	paths, faces, err := RelayPlan(top, env, bind, 40000)
	require.NoError(t, err)
	require.Len(t, paths, 3)
	require.Len(t, faces, 6, "a face per tunnel end")

	m, err := tunnel.New(mustTunnelSpec(t, top))
	require.NoError(t, err)
	for _, tn := range m.Tunnels {
		for i, end := range tn.Ends {
			peer := tn.Ends[1-i]
			face := faces[RelayEnd{Tunnel: tn.Index, Site: end.Site}]
			require.True(t, face.IsValid(), "tunnel %d at %s", tn.Index, end.Site)
			assert.Equal(t, bind, face.Addr())
			// The path that face belongs to must deliver to the peer's
			// real tunnel socket.
			var found bool
			for _, p := range paths {
				switch face {
				case p.ListenA:
					found = true
					assert.Equal(t, netip.AddrPortFrom(peer.WAN, tn.Port), p.PeerB)
					assert.Equal(t, netip.AddrPortFrom(end.WAN, tn.Port), p.PeerA)
				case p.ListenB:
					found = true
					assert.Equal(t, netip.AddrPortFrom(peer.WAN, tn.Port), p.PeerA)
					assert.Equal(t, netip.AddrPortFrom(end.WAN, tn.Port), p.PeerB)
				}
			}
			assert.True(t, found, "face %v belongs to no path", face)
		}
	}
	// Tokyo (site-a) to Frankfurt (site-b): 139.98 ms, half each way.
	assert.Equal(t, "site-a<->site-b", paths[0].Name)
	assert.InDelta(t, float64(70*time.Millisecond), float64(paths[0].AtoB.Delay), float64(100*time.Microsecond))

	none, _, err := RelayPlan(top, &Env{}, bind, 40000)
	require.NoError(t, err)
	assert.Nil(t, none)
}

func mustTunnelSpec(t *testing.T, top *topology.Topology) tunnel.Spec {
	t.Helper()
	spec, err := TunnelSpec(top)
	require.NoError(t, err)
	return spec
}

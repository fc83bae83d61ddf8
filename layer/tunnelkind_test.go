package layer

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/tunnel"
)

// fakeKind is a tunnel kind that touches nothing: its drivers only say
// which router and how many tunnels they were given. It names its
// interfaces wg0, wg1, ... and cannot configure VyOS.
type fakeKind struct{}

func (fakeKind) Interface(i int) string { return fmt.Sprintf("wg%d", i) }
func (fakeKind) Routers(_ *topology.Topology, _ *Env, m *tunnel.Model) (TunnelRouters, error) {
	return fakeRouters{m}, nil
}

type fakeRouters struct{ m *tunnel.Model }

func (r fakeRouters) Linux(s topology.Site) (TunnelDriver, error) {
	return fakeDriver(fmt.Sprintf("%d fake tunnels on %s", len(r.m.TunnelsOf(s.Name)), s.Router.Name)), nil
}
func (fakeRouters) VyOS(s topology.Site) (TunnelDriver, error) {
	return nil, fmt.Errorf("router %q: fake tunnels need a Linux router", s.Router.Name)
}
func (fakeRouters) Warnings() []string { return []string{"fake tunnels carry nothing"} }

type fakeDriver string

func (d fakeDriver) Inspect(context.Context, remote.Runner) (bool, []string, error) {
	return false, []string{"bring up " + string(d)}, nil
}
func (fakeDriver) Apply(context.Context, remote.Runner) error                     { return nil }
func (fakeDriver) InspectRemove(context.Context, remote.Runner) ([]string, error) { return nil, nil }
func (fakeDriver) Remove(context.Context, remote.Runner) error                    { return nil }
func (d fakeDriver) Render() ([]Artifact, error) {
	return []Artifact{{Title: "fake tunnels", Content: string(d)}}, nil
}

func TestUnknownVPNTypeNamesTheField(t *testing.T) {
	t.Parallel()
	st, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)
	topo := routersTopology(topology.RouterLinux, topology.RouterLinux)
	topo.VPN.Type = "ipsec"
	env := &Env{State: st, TunnelKinds: map[string]TunnelKind{"fake": fakeKind{}}}
	const want = `vpn.type: no tunnel kind "ipsec"; kinds are [fake openvpn wireguard]`
	cases := []struct {
		name string
		run  func() error
	}{
		{"plan", func() error { _, err := Plan(topo, env, Routers); return err }},
		{"destroy", func() error { _, err := DestroyPlan(topo, env, Routers); return err }},
		{"render", func() error { _, err := Render(topo, env, "r1", Routers); return err }},
		{"wan", func() error { _, err := wanSteps(topo, &Env{Latency: planetEnv(t, topo).Latency}); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.ErrorContains(t, tc.run(), "vpn.type: no tunnel kind \"ipsec\"")
		})
	}
	assert.ErrorContains(t, cases[0].run(), want, "the message lists the kinds there are")
}

// A kind from Env.TunnelKinds drives the routers, names the interfaces the
// wan layer shapes, and its warnings are logged; replacing "openvpn" takes
// over the default type.
func TestTunnelKindFromEnv(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"fake", topology.VPNTypeOpenVPN} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st, err := topology.OpenState(t.TempDir())
			require.NoError(t, err)
			topo := routersTopology(topology.RouterLinux, topology.RouterLinux, topology.RouterVyOS)
			topo.VPN.Type = name
			var log bytes.Buffer
			env := &Env{State: st, Log: slog.New(slog.NewTextHandler(&log, nil)),
				TunnelKinds: map[string]TunnelKind{name: fakeKind{}},
				Dial:        func(_ context.Context, m string) (remote.Runner, error) { return &emptyMachine{name: m}, nil }}

			// A router the kind cannot drive fails the plan, before any step.
			_, err = routerSteps(topo, env)
			assert.ErrorContains(t, err, `router "r3": fake tunnels need a Linux router`)
			topo.Sites[2].Router.Kind, topo.Sites[2].Router.Version = topology.RouterLinux, ""
			nodes, err := routerSteps(topo, env)
			require.NoError(t, err)
			require.Len(t, nodes, 3+3, "a step per router, then a probe per tunnel")
			c, err := nodes[0].Step.Inspect(t.Context())
			require.NoError(t, err)
			assert.Equal(t, "bring up 2 fake tunnels on r1", c.Reason)
			assert.Contains(t, log.String(), "fake tunnels carry nothing")

			arts, err := Render(topo, env, "r2", Routers)
			require.NoError(t, err)
			require.Len(t, arts, 1)
			assert.Equal(t, "2 fake tunnels on r2", arts[0].Content)

			env.Latency = planetEnv(t, topo).Latency
			arts, err = renderWAN(topo, env, "r1")
			require.NoError(t, err)
			require.Len(t, arts, 1)
			assert.Contains(t, arts[0].Content, "tc qdisc replace dev wg0 ")
			assert.NotContains(t, arts[0].Content, "vtun")
		})
	}
}

package layer

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// stubProvider stands in for a second hypervisor kind: an up step per
// machine of its hypervisors, recorded.
type stubProvider struct{ saw []string }

func (p *stubProvider) Steps(t *topology.Topology, _ *Env, hyps []topology.Hypervisor) ([]plan.Node, error) {
	var nodes []plan.Node
	for _, h := range hyps {
		p.saw = append(p.saw, h.Name)
	}
	for _, m := range t.Machines() {
		for _, h := range hyps {
			if m.Site.Hypervisor == h.Name {
				nodes = append(nodes, plan.Node{ID: topology.MachineUpID(m.Name), Target: "stub vm " + m.Name,
					Step: plan.Funcs{
						InspectFunc: func(context.Context) (plan.Change, error) { return plan.Change{Action: plan.Create}, nil },
						ApplyFunc:   func(context.Context, plan.Change) error { return nil },
					}})
			}
		}
	}
	return nodes, nil
}

func (p *stubProvider) Destroy(*topology.Topology, *Env, []topology.Hypervisor) ([]plan.Node, error) {
	return nil, nil
}

func (p *stubProvider) Render(_ *topology.Topology, _ *Env, m string) ([]Artifact, error) {
	return []Artifact{{Title: "stub vm", Content: m}}, nil
}

// A hypervisor kind is served by the provider registered for it in
// Env.Providers; ESXi keeps the others; a kind nobody serves is an error
// naming the field.
func TestProvidersByKind(t *testing.T) {
	t.Parallel()
	top := loadThesis(t)
	top.Hypervisors[1].Kind = "proxmox"
	st, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)

	_, err = Plan(top, &Env{State: st}, Machines)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `hypervisors[1].kind: no provider for hypervisor kind "proxmox"`)

	stub := &stubProvider{}
	env := &Env{State: st, Providers: map[string]Provider{"proxmox": stub}}
	g, err := Plan(top, env, Machines)
	require.NoError(t, err)
	assert.Equal(t, []string{"esxi2"}, stub.saw, "only its own hypervisors")
	n, ok := g.Node(topology.MachineUpID("node03"))
	require.True(t, ok)
	assert.Equal(t, "stub vm node03", n.Target, "site-c is on esxi2: the stub makes its machines")
	n, ok = g.Node(topology.MachineUpID("master01"))
	require.True(t, ok)
	assert.Contains(t, n.Target, "power of vm master01 on esxi1", "esxi1 stays ESXi's")

	arts, err := Render(top, env, "node03", Machines)
	require.NoError(t, err)
	require.Len(t, arts, 1)
	assert.Equal(t, "node03", arts[0].Content)

	_, err = Default().Select("esxi", "bogus")
	assert.EqualError(t, err, "unknown layer bogus; layers are machines, routers, wan, lb, cluster")
	names, err := Default().Select("esxi", Routers)
	require.NoError(t, err)
	assert.Equal(t, []string{Machines, Routers}, names, "esxi is the machines layer's old name")
	assert.Error(t, Default().Add(Layer{Name: "esxi", Steps: func(*topology.Topology, *Env) ([]plan.Node, error) { return nil, nil }}))
}

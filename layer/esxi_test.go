package layer_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/esxi"
	"github.com/planetstage/planetstage/esxi/esxitest"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// thesisOnSimulators loads the thesis topology and points its two
// hypervisors at two simulated standalone ESXi hosts.
func thesisOnSimulators(t *testing.T) (*topology.Topology, [2]*esxitest.Host) {
	t.Helper()
	data, err := os.ReadFile("../examples/thesis/thesis.yaml")
	require.NoError(t, err)
	topo, err := topology.Parse("thesis.yaml", data)
	require.NoError(t, err)
	sims := [2]*esxitest.Host{esxitest.New(t, esxitest.Options{}), esxitest.New(t, esxitest.Options{})}
	require.Len(t, topo.Hypervisors, 2)
	for i := range topo.Hypervisors {
		topo.Hypervisors[i].URL = sims[i].URL
		topo.Hypervisors[i].Thumbprint = sims[i].Thumbprint
	}
	return topo, sims
}

func esxiEnv(t *testing.T) *layer.Env {
	t.Helper()
	st, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)
	opts := &layer.ESXiOptions{Getenv: esxitest.Getenv}
	t.Cleanup(func() { _ = opts.Close(context.Background()) })
	return &layer.Env{State: st, ESXi: opts}
}

func walk(ctx context.Context, t *testing.T, g *plan.Graph, apply bool) *plan.Result {
	t.Helper()
	res, err := plan.Walk(ctx, g, plan.Options{Apply: apply})
	require.NoError(t, err)
	return res
}

func TestESXiLayerThesis(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topo, sims := thesisOnSimulators(t)
	env := esxiEnv(t)
	g, err := layer.Plan(topo, env, "esxi")
	require.NoError(t, err)
	// 2 vSwitches; port groups: esxi1 underlay+site-a, esxi2
	// underlay+site-b+site-c; 11 VMs and 11 power-ons.
	require.Equal(t, 2+5+11+11, g.Len())

	// plan: everything would be created; nothing is.
	res := walk(ctx, t, g, false)
	assert.Equal(t, plan.Summary{Created: 18, Updated: 11}, res.Summary())
	c1, c2 := sims[0].Connect(t), sims[1].Connect(t)
	pgs, err := c1.PortGroups(ctx)
	require.NoError(t, err)
	for _, p := range pgs {
		assert.False(t, strings.HasPrefix(p.Name, "thesis-"), "plan created %s", p.Name)
	}

	// apply
	res = walk(ctx, t, g, true)
	assert.Equal(t, plan.Summary{Created: 18, Updated: 11}, res.Summary())

	wantPG := map[*esxi.Client]map[string]int{
		c1: {"thesis-underlay": 0, "thesis-site-a": 10},
		c2: {"thesis-underlay": 0, "thesis-site-b": 20, "thesis-site-c": 30},
	}
	for c, want := range wantPG {
		pgs, err := c.PortGroups(ctx)
		require.NoError(t, err)
		got := map[string]int{}
		for _, p := range pgs {
			if strings.HasPrefix(p.Name, "thesis-") {
				got[p.Name] = p.VLAN
				assert.Equal(t, "vSwitch-thesis", p.VSwitch)
			}
		}
		assert.Equal(t, want, got, c.Host())
	}
	for _, m := range topo.Machines() {
		c := map[string]*esxi.Client{"esxi1": c1, "esxi2": c2}[m.Site.Hypervisor]
		info, err := c.VMInfo(ctx, m.Name)
		require.NoError(t, err)
		require.NotNil(t, info, m.Name)
		site := "thesis-" + m.Site.Name
		want := []string{site}
		if m.IsRouter() {
			want = []string{"thesis-underlay", site}
		}
		var got []string
		for _, n := range info.NICs {
			got = append(got, n.PortGroup)
		}
		assert.Equal(t, want, got, "%s NIC backings", m.Name)
		assert.True(t, info.PowerOn, m.Name)
		assert.Equal(t, "thesis", info.Owner, m.Name)
		wantCPUs := map[string]int{"router": 1, "load-balancer": 1, "control-plane": 2, "worker": 2}[m.Role]
		assert.Equal(t, wantCPUs, info.CPUs, "%s sized by role", m.Name)
	}

	// Re-apply: nothing changes.
	res = walk(ctx, t, g, true)
	assert.Equal(t, plan.Summary{Unchanged: 29}, res.Summary())

	// Drift: site-c moved to VLAN 31 by hand; plan names it, apply fixes it.
	_, err = c2.EnsurePortGroup(ctx, esxi.PortGroup{Name: "thesis-site-c", VSwitch: "vSwitch-thesis", VLAN: 31})
	require.NoError(t, err)
	res = walk(ctx, t, g, false)
	assert.Equal(t, plan.Summary{Updated: 1, Unchanged: 28}, res.Summary())
	for _, s := range res.Steps {
		if s.Action == plan.Update {
			assert.Equal(t, layer.ESXiPortGroupID("esxi2", "thesis-site-c"), s.ID)
			assert.Contains(t, s.Reason, "VLAN 31, want 30")
		}
	}
	res = walk(ctx, t, g, true)
	assert.Equal(t, plan.Summary{Updated: 1, Unchanged: 28}, res.Summary())
	res = walk(ctx, t, g, false)
	assert.Equal(t, plan.Summary{Unchanged: 29}, res.Summary())

	// Something planetstage did not create, on the same host, survives destroy.
	_, err = c1.EnsurePortGroup(ctx, esxi.PortGroup{Name: "operator-pg", VSwitch: "vSwitch-thesis", VLAN: 99})
	require.NoError(t, err)
	_, err = c1.EnsureVM(ctx, esxi.VM{Name: "operator-vm", NICs: []esxi.NIC{{PortGroup: "thesis-site-a"}}})
	require.NoError(t, err)

	dg, err := layer.DestroyPlan(topo, env, "esxi")
	require.NoError(t, err)
	res = walk(ctx, t, dg, true)
	// 11 VMs and 5 port groups go; esxi1's vSwitch stays (it carries
	// operator-pg), esxi2's goes.
	assert.Equal(t, plan.Summary{Deleted: 17, Unchanged: 1}, res.Summary())
	for _, m := range topo.Machines() {
		c := map[string]*esxi.Client{"esxi1": c1, "esxi2": c2}[m.Site.Hypervisor]
		info, err := c.VMInfo(ctx, m.Name)
		require.NoError(t, err)
		assert.Nil(t, info, m.Name)
	}
	info, err := c1.VMInfo(ctx, "operator-vm")
	require.NoError(t, err)
	assert.NotNil(t, info, "operator-vm must survive")
	pgs, err = c1.PortGroups(ctx)
	require.NoError(t, err)
	var names []string
	for _, p := range pgs {
		names = append(names, p.Name)
	}
	assert.Contains(t, names, "operator-pg")
	assert.NotContains(t, names, "thesis-site-a")

	res = walk(ctx, t, dg, true)
	assert.Equal(t, plan.Summary{Unchanged: 18}, res.Summary(), "second destroy has nothing to do")
}

func TestESXiLayerSizing(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topo, sims := thesisOnSimulators(t)
	topo.Defaults = &topology.Defaults{VMs: map[string]topology.VM{"worker": {CPUs: 3, MemoryMB: 3072}}}
	topo.Sites[1].Hosts[0].VM = &topology.VM{MemoryMB: 8192} // node01
	g, err := layer.Plan(topo, esxiEnv(t), "esxi")
	require.NoError(t, err)
	walk(ctx, t, g, true)
	c2 := sims[1].Connect(t)
	for name, want := range map[string][2]int{"node01": {3, 8192}, "node02": {3, 3072}, "vyos02": {1, 1024}} {
		info, err := c2.VMInfo(ctx, name)
		require.NoError(t, err)
		require.NotNil(t, info, name)
		assert.Equal(t, want, [2]int{info.CPUs, info.MemoryMB}, name)
	}

	topo.Sites[0].Hosts[0].VM = &topology.VM{Image: "ubuntu:24.04"}
	_, err = layer.Plan(topo, esxiEnv(t), "esxi")
	require.ErrorContains(t, err, `machine lb: image "ubuntu:24.04": on ESXi an image is an .ova or .ovf file`)
}

// TestESXiLayerUnreachable: with no hypervisor reachable, plan says so and
// plans creation; apply fails naming the hypervisor.
func TestESXiLayerUnreachable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topo, _ := thesisOnSimulators(t)
	for i := range topo.Hypervisors {
		topo.Hypervisors[i].URL = "https://127.0.0.1:1/sdk" // nothing listens on port 1
	}
	env := esxiEnv(t)
	g, err := layer.Plan(topo, env, "esxi")
	require.NoError(t, err)
	res := walk(ctx, t, g, false)
	assert.Equal(t, plan.Summary{Created: 18, Updated: 11}, res.Summary())
	for _, s := range res.Steps {
		assert.Contains(t, s.Reason, "unreachable", s.ID)
	}
	res, err = plan.Walk(ctx, g, plan.Options{Apply: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "hypervisor esxi1")
	assert.Equal(t, 2, res.Summary().Failed, "the two vSwitch steps fail")
	assert.Equal(t, 27, res.Summary().Skipped, "everything after them is skipped")
}

func TestESXiLayerRender(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../examples/thesis/thesis.yaml")
	require.NoError(t, err)
	topo, err := topology.Parse("thesis.yaml", data)
	require.NoError(t, err)
	arts, err := layer.Render(topo, esxiEnv(t), "vyos03", "esxi")
	require.NoError(t, err)
	require.Len(t, arts, 2)
	assert.Equal(t, "vm vyos03 on hypervisor esxi2 (guest debian10_64Guest)\ncpus: 1\nmemoryMB: 1024\ndiskGB: 8\n"+
		"nic0: vmxnet3 on port group thesis-underlay (VLAN 0, vSwitch vSwitch-thesis)\n"+
		"nic1: vmxnet3 on port group thesis-site-c (VLAN 30, vSwitch vSwitch-thesis)\n"+
		"extraConfig planetstage.topology: thesis\n", arts[0].Content)
	arts, err = layer.Render(topo, esxiEnv(t), "master02", "esxi")
	require.NoError(t, err)
	require.Len(t, arts, 2)
	assert.Equal(t, "instance-id: thesis-master02\nlocal-hostname: master02\nnetwork:\n  version: 2\n  ethernets:\n    site:\n"+
		"      match: {name: \"e*\"}\n      addresses: [192.168.10.102/24]\n      routes: [{to: default, via: 192.168.10.1}]\n", arts[1].Content)
}

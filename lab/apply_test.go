package lab

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
)

// TestApplyBootsVMsAndConverges: Apply walks the layers as on hardware.
// The machines layer powers the VMs of the hypervisor site on and their
// containers start with them (the lab's provider), while the site without
// a hypervisor is only checked; the default layers then build the tunnels
// and Apply returns once every pair answers; a second Apply changes
// nothing.
func TestApplyBootsVMsAndConverges(t *testing.T) {
	t.Parallel()
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	topo := simTopology("labtest-apply")
	renumber(topo, 28)
	topo.VPN = &topology.VPN{Mode: topology.VPNMesh, Transit: netip.MustParsePrefix("10.255.28.0/24")}
	require.NoError(t, topo.Validate())

	l, err := Up(ctx, topo, Options{StateDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, l.Down(context.Background())) })
	for _, name := range []string{"vyos01", "master01"} {
		exists, err := l.containerExists(ctx, name)
		require.NoError(t, err)
		assert.False(t, exists, "%s is a VM: no machine before the plan powers it on", name)
	}

	var phases []Phase
	l.progress = func(e Event) {
		if e.Done {
			phases = append(phases, e.Phase)
		}
	}
	res, err := l.Apply(ctx, ApplyOptions{Layers: []string{layer.Machines}})
	require.NoError(t, err)
	byID := map[string]plan.StepResult{}
	for _, s := range res.Steps {
		byID[s.ID] = s
	}
	assert.Equal(t, plan.Done, byID[topology.MachineUpID("vyos01")].Outcome)
	assert.Contains(t, byID[topology.MachineUpID("gw2")].Reason, "answers over SSH", "an existing machine is only checked")
	for _, name := range []string{"vyos01", "master01"} {
		exists, err := l.containerExists(ctx, name)
		require.NoError(t, err)
		assert.True(t, exists, "%s's VM is on, so its machine runs", name)
	}
	// master01 booted as a VMware guest: cloud-init ran on its VM's
	// user-data and meta-data (the instance is the VM's), and its SSH
	// keys came from there; gw2, a machine that exists, got the lab's.
	r, err := l.Exec("master01")
	require.NoError(t, err)
	id, err := remote.Output(ctx, r, "cat /var/lib/cloud/data/instance-id")
	require.NoError(t, err)
	assert.Equal(t, "labtest-apply-master01", strings.TrimSpace(id), "cloud-init read the VM's meta-data")
	log, err := remote.Output(ctx, r, "cat /var/log/planetstage-cloud-init.log")
	require.NoError(t, err)
	assert.Contains(t, log, "running 'init'")
	assert.NotContains(t, log, "Traceback")
	r, err = l.Exec("gw2")
	require.NoError(t, err)
	_, err = remote.Output(ctx, r, "test -e /var/lib/cloud/seed/nocloud/user-data")
	assert.Error(t, err, "a machine without a VM has no seed")
	assert.NotContains(t, phases, PhaseConverge, "no routers layer, no wait for the tunnels")

	_, err = l.Apply(ctx, ApplyOptions{})
	require.NoError(t, err)
	assert.Contains(t, phases, PhaseConverge)
	m, err := l.Matrix(ctx)
	require.NoError(t, err)
	assert.Empty(t, m.Unreachable(), "Apply returned once the tunnels carried every pair")

	converged := len(phases)
	again, err := l.Apply(ctx, ApplyOptions{})
	require.NoError(t, err)
	for _, s := range again.Steps {
		assert.Equal(t, plan.NoOp, s.Action, "%s: %s", s.ID, s.Reason)
	}
	assert.NotContains(t, phases[converged:], PhaseConverge, "a no-op apply probed every tunnel: no whole matrix again")
	assert.Equal(t, []string{layer.Machines, layer.Routers, layer.WAN, layer.LB}, l.DefaultLayers(nil), "no node image, no cluster")
	_, err = l.Apply(ctx, ApplyOptions{Layers: []string{"bogus"}})
	assert.ErrorContains(t, err, "unknown layer bogus")
}

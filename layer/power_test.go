package layer_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/planetstage/planetstage/layer"
)

// TestPowerThroughTheProvider: a VM the machines layer made is turned off
// and on again through its hypervisor (govmomi's simulator), as an
// experiment's fault does it; a machine that exists outside any hypervisor
// is refused by name.
func TestPowerThroughTheProvider(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topo, sims := thesisOnSimulators(t)
	env := esxiEnv(t)
	g, err := layer.Plan(topo, env, layer.Machines)
	require.NoError(t, err)
	walk(ctx, t, g, true)

	vim := sims[0].Connect(t).Vim()
	state := func() types.VirtualMachinePowerState {
		vm, err := find.NewFinder(vim).VirtualMachine(ctx, "master01")
		require.NoError(t, err)
		var o mo.VirtualMachine
		require.NoError(t, vm.Properties(ctx, vm.Reference(), []string{"runtime.powerState"}, &o))
		return o.Runtime.PowerState
	}
	require.Equal(t, types.VirtualMachinePowerStatePoweredOn, state())
	require.NoError(t, layer.Power(ctx, topo, env, "master01", false))
	assert.Equal(t, types.VirtualMachinePowerStatePoweredOff, state())
	require.NoError(t, layer.Power(ctx, topo, env, "master01", false), "already off is no error")
	require.NoError(t, layer.Power(ctx, topo, env, "master01", true))
	assert.Equal(t, types.VirtualMachinePowerStatePoweredOn, state())

	assert.ErrorContains(t, layer.Power(ctx, topo, env, "nosuch", false), `no machine "nosuch"`)
	existing := topo.Clone()
	existing.Sites[0].Hypervisor = ""
	err = layer.Power(ctx, existing, env, "master01", false)
	assert.ErrorIs(t, err, layer.ErrNoPowerSwitch)
	assert.ErrorContains(t, err, `machine "master01"`)
	assert.Equal(t, types.VirtualMachinePowerStatePoweredOn, state(), "nothing was turned off")
}

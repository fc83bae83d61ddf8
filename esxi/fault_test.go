package esxi_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/planetstage/planetstage/esxi"
	"github.com/planetstage/planetstage/plan"
)

// TestHostFaults makes the simulator answer the way real ESXi does where
// it differs, with the simulator's own fault injection: a free-licence
// host's RestrictedVersion, and AlreadyExists (not DuplicateName) for a
// port group someone else created meanwhile.
func TestHostFaults(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h := newSimHost(t, false)
	c := h.connect(t)
	_, err := c.EnsureVSwitch(ctx, esxi.VSwitch{Name: thesisSwitch})
	require.NoError(t, err)
	inject := func(method string, fault types.BaseMethodFault, msg string) {
		h.Model.Service.ClearFaultRules()
		h.Model.Service.AddFaultRule(&simulator.FaultInjectionRule{MethodName: method, ObjectType: "*", ObjectName: "*", FaultType: simulator.FaultTypeCustom,
			Fault: fault, Message: msg, Probability: 1, Enabled: true})
	}

	inject("AddPortGroup", &types.RestrictedVersion{}, "Current license or ESXi version prohibits execution of the requested operation.")
	ch, err := c.InspectPortGroup(ctx, pg("site-a", 10))
	require.NoError(t, err, "reads work on a free licence")
	assert.Equal(t, plan.Create, ch.Action)
	err = c.ApplyPortGroup(ctx, pg("site-a", 10), ch)
	require.Error(t, err)
	assert.True(t, esxi.IsRestricted(err))
	assert.Contains(t, err.Error(), `port group "site-a": add`)
	assert.Contains(t, err.Error(), "read-only")
	assert.Contains(t, err.Error(), "evaluation or paid licence")

	inject("AddPortGroup", &types.AlreadyExists{Name: "site-a"}, "")
	require.NoError(t, c.ApplyPortGroup(ctx, pg("site-a", 10), ch), "AlreadyExists means someone was faster: done")

	h.Model.Service.ClearFaultRules()
	_, err = c.EnsurePortGroup(ctx, pg("site-a", 10))
	require.NoError(t, err)
	_, err = c.EnsureVM(ctx, vm("node01", 1, 512, "site-a"))
	require.NoError(t, err)
	// A power-on that races another client's: InvalidPowerState with the
	// wanted state is success.
	inject("PowerOnVM_Task", &types.InvalidPowerState{ExistingState: types.VirtualMachinePowerStatePoweredOn,
		RequestedState: types.VirtualMachinePowerStatePoweredOn}, "")
	require.NoError(t, c.ApplyPower(ctx, "node01", true))
	// Any other fault is an error naming host, VM and operation.
	inject("PowerOnVM_Task", &types.InvalidPowerState{ExistingState: types.VirtualMachinePowerStateSuspended,
		RequestedState: types.VirtualMachinePowerStatePoweredOn}, "")
	err = c.ApplyPower(ctx, "node01", true)
	require.ErrorContains(t, err, "esxi "+c.Host()+`: vm "node01": power on`)
}

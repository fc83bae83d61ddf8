package esxi

import (
	"context"
	"fmt"

	"github.com/planetstage/planetstage/plan"
	"github.com/vmware/govmomi/vim25/types"
)

func powerWord(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func powerState(on bool) types.VirtualMachinePowerState {
	if on {
		return types.VirtualMachinePowerStatePoweredOn
	}
	return types.VirtualMachinePowerStatePoweredOff
}

// InspectPower says whether the VM must be powered on (on=true) or off.
// A missing VM is an error: create it first.
func (c *Client) InspectPower(ctx context.Context, name string, on bool) (plan.Change, error) {
	st, err := c.readVM(ctx, name)
	if err != nil {
		return plan.Change{}, err
	}
	if st == nil {
		return plan.Change{}, c.errorf(fmt.Sprintf("vm %q", name), "power "+powerWord(on), fmt.Errorf("vm does not exist"))
	}
	if st.power == powerState(on) {
		return noop(fmt.Sprintf("vm %s is powered %s", name, powerWord(on))), nil
	}
	return plan.Change{Action: plan.Update, Reason: fmt.Sprintf("vm %s is %s; power %s", name, st.power, powerWord(on))}, nil
}

// ApplyPower powers the VM on or off. A VM already in that state (another
// client was faster) is no error. Power off is a hard power off: guest
// shutdown needs VMware Tools, which a fresh VM may not run yet.
func (c *Client) ApplyPower(ctx context.Context, name string, on bool) error {
	st, err := c.readVM(ctx, name)
	if err != nil {
		return err
	}
	object := fmt.Sprintf("vm %q", name)
	if st == nil {
		return c.errorf(object, "power "+powerWord(on), fmt.Errorf("vm does not exist"))
	}
	if st.power == powerState(on) {
		return nil
	}
	return c.errorf(object, "power "+powerWord(on), c.setPower(ctx, st, on))
}

func (c *Client) setPower(ctx context.Context, st *vmState, on bool) error {
	task, err := st.ref.PowerOff(ctx)
	if on {
		task, err = st.ref.PowerOn(ctx)
	}
	if err == nil {
		err = task.Wait(ctx)
	}
	if alreadyInPowerState(err, powerState(on)) {
		return nil
	}
	return err
}

// EnsurePower powers the VM on or off when it is not already.
func (c *Client) EnsurePower(ctx context.Context, name string, on bool) (plan.Change, error) {
	ch, err := c.InspectPower(ctx, name, on)
	if err != nil || !changed(ch) {
		return ch, err
	}
	return ch, c.ApplyPower(ctx, name, on)
}

// InspectDestroyVM says whether DestroyVM would remove the VM. With a
// non-empty owner, only a VM whose OwnerKey matches is removed; others are
// reported and left alone.
func (c *Client) InspectDestroyVM(ctx context.Context, name, owner string) (plan.Change, error) {
	st, err := c.readVM(ctx, name)
	if err != nil {
		return plan.Change{}, err
	}
	if st == nil {
		return noop(fmt.Sprintf("vm %s already absent", name)), nil
	}
	if owner != "" && st.owner() != owner {
		return noop(fmt.Sprintf("vm %s is not owned by topology %s (%s=%q); left alone", name, owner, OwnerKey, st.owner())), nil
	}
	return plan.Change{Action: plan.Delete, Reason: fmt.Sprintf("destroy vm %s (%s)", name, st.power)}, nil
}

// ApplyDestroyVM powers the VM off and destroys it with its disks. A
// missing VM is no error; the owner check is repeated.
func (c *Client) ApplyDestroyVM(ctx context.Context, name, owner string) error {
	st, err := c.readVM(ctx, name)
	if err != nil || st == nil {
		return err
	}
	object := fmt.Sprintf("vm %q", name)
	if owner != "" && st.owner() != owner {
		return nil
	}
	if st.power != types.VirtualMachinePowerStatePoweredOff {
		if err := c.setPower(ctx, st, false); err != nil && !isNotFound(err) {
			return c.errorf(object, "power off before destroy", err)
		}
	}
	task, err := st.ref.Destroy(ctx)
	if err == nil {
		err = task.Wait(ctx)
	}
	if err == nil || isNotFound(err) {
		c.cacheVM(name, nil)
		return nil
	}
	return c.errorf(object, "destroy", err)
}

// DestroyVM removes the VM if it exists (and is owned by owner, if given).
func (c *Client) DestroyVM(ctx context.Context, name, owner string) (plan.Change, error) {
	ch, err := c.InspectDestroyVM(ctx, name, owner)
	if err != nil || !changed(ch) {
		return ch, err
	}
	return ch, c.ApplyDestroyVM(ctx, name, owner)
}

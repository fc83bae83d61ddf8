package esxi

import (
	"context"
	"fmt"
	"strings"

	"github.com/planetstage/planetstage/plan"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

// InspectVM says what EnsureVM would change: create a missing VM, or
// reconfigure one whose CPUs, memory, disk size, NICs or extraConfig
// drifted. It changes nothing.
func (c *Client) InspectVM(ctx context.Context, v VM) (plan.Change, error) {
	if err := v.validate(); err != nil {
		return plan.Change{}, c.errorf(v.object(), "inspect", err)
	}
	v = v.withDefaults()
	st, err := c.readVM(ctx, v.Name)
	if err != nil {
		return plan.Change{}, err
	}
	if st == nil {
		return plan.Change{Action: plan.Create, Reason: v.summary()}, nil
	}
	d, err := c.diffVM(v, st, false)
	if err != nil {
		return plan.Change{}, c.errorf(v.object(), "inspect", err)
	}
	if d.empty() {
		return noop(fmt.Sprintf("vm %s as wanted", v.Name)), nil
	}
	return plan.Change{Action: plan.Update, Reason: fmt.Sprintf("vm %s: %s", v.Name, strings.Join(d.reasons, "; "))}, nil
}

func (v VM) summary() string {
	pgs := make([]string, len(v.NICs))
	for i, n := range v.NICs {
		pgs[i] = n.PortGroup
	}
	from := "empty"
	if v.Source != "" {
		from = "imported from " + v.Source
	}
	return fmt.Sprintf("vm %s missing; create (%s) with %d CPU, %d MB, %d GB disk, NICs [%s]",
		v.Name, from, v.CPUs, v.MemoryMB, v.DiskGB, strings.Join(pgs, ", "))
}

// ApplyVM makes the change InspectVM reported. It reads the VM again, so a
// stale Change does no harm.
func (c *Client) ApplyVM(ctx context.Context, v VM, ch plan.Change) error {
	if err := v.validate(); err != nil {
		return c.errorf(v.object(), "apply", err)
	}
	v = v.withDefaults()
	st, err := c.readVM(ctx, v.Name)
	if err != nil {
		return err
	}
	created := false
	if st == nil {
		if v.Source != "" {
			if err := c.importVM(ctx, v); err != nil {
				return err
			}
			created = true
		} else if created, err = c.createVM(ctx, v); err != nil {
			return err
		} else if created {
			// The create spec carried everything; nothing to converge.
			return nil
		}
		// An import brings the OVF's hardware; a create that raced with
		// another client finds that one. Both converge below (the raced
		// one only if it carries our owner mark).
		if st, err = c.readVM(ctx, v.Name); err != nil || st == nil {
			if err == nil {
				err = fmt.Errorf("not found after create")
			}
			return c.errorf(v.object(), "read back", err)
		}
	}
	d, err := c.diffVM(v, st, created)
	if err != nil {
		return c.errorf(v.object(), "apply", err)
	}
	if d.empty() {
		return nil
	}
	return c.reconfigureVM(ctx, v, st, d)
}

// EnsureVM creates or reconfigures the VM and reports what it did.
func (c *Client) EnsureVM(ctx context.Context, v VM) (plan.Change, error) {
	ch, err := c.InspectVM(ctx, v)
	if err != nil || !changed(ch) {
		return ch, err
	}
	return ch, c.ApplyVM(ctx, v, ch)
}

// backing resolves a port group to a NIC backing. Resolving first matters:
// a backing naming a missing network makes the simulator crash and a real
// host fail the whole task.
func (c *Client) backing(ctx context.Context, v VM, pg string) (types.BaseVirtualDeviceBackingInfo, error) {
	ref, err := c.networkRef(ctx, pg)
	if err != nil {
		return nil, c.errorf(v.object(), "resolve "+portGroupObject(pg), err)
	}
	return &types.VirtualEthernetCardNetworkBackingInfo{
		VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: pg},
		Network:                        &ref,
	}, nil
}

func (c *Client) networkRef(ctx context.Context, name string) (types.ManagedObjectReference, error) {
	ref, err := object.NewSearchIndex(c.vim).FindChild(ctx, c.netFolder, name)
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	if ref == nil {
		return types.ManagedObjectReference{}, fmt.Errorf("no network named %q on the host; create the port group first", name)
	}
	if t := ref.Reference().Type; t != "Network" {
		return types.ManagedObjectReference{}, fmt.Errorf("%q is a %s, want a standard port group (Network)", name, t)
	}
	return ref.Reference(), nil
}

func (c *Client) newNIC(ctx context.Context, v VM, n NIC) (types.BaseVirtualDevice, error) {
	b, err := c.backing(ctx, v, n.PortGroup)
	if err != nil {
		return nil, err
	}
	nic, err := object.VirtualDeviceList{}.CreateEthernetCard(n.Type, b)
	if err != nil {
		return nil, c.errorf(v.object(), "nic on "+n.PortGroup, err)
	}
	if n.MAC != "" {
		setMAC(nic, n.MAC)
	}
	return nic, nil
}

// setMAC gives card d the static address mac.
func setMAC(d types.BaseVirtualDevice, mac string) {
	card := d.(types.BaseVirtualEthernetCard).GetVirtualEthernetCard()
	card.AddressType = string(types.VirtualEthernetCardMacTypeManual)
	card.MacAddress = mac
}

// createVM reports whether it made the VM; false with no error means
// another client created one of that name meanwhile.
func (c *Client) createVM(ctx context.Context, v VM) (bool, error) {
	var devs object.VirtualDeviceList
	if v.DiskGB > 0 {
		scsi, err := devs.CreateSCSIController("pvscsi")
		if err != nil {
			return false, c.errorf(v.object(), "create scsi controller", err)
		}
		devs = append(devs, scsi)
		disk := devs.CreateDisk(scsi.(types.BaseVirtualController), c.datastore.Reference(), "")
		disk.CapacityInKB = int64(v.DiskGB) << 20
		devs = append(devs, disk)
	}
	for _, n := range v.NICs {
		nic, err := c.newNIC(ctx, v, n)
		if err != nil {
			return false, err
		}
		devs = append(devs, nic)
	}
	changes, err := devs.ConfigSpec(types.VirtualDeviceConfigSpecOperationAdd)
	if err != nil {
		return false, c.errorf(v.object(), "device spec", err)
	}
	var extra []types.BaseOptionValue
	for k, val := range v.wantExtraConfig() {
		extra = append(extra, &types.OptionValue{Key: k, Value: val})
	}
	spec := types.VirtualMachineConfigSpec{
		Name:         v.Name,
		GuestId:      v.GuestID,
		NumCPUs:      int32(v.CPUs),
		MemoryMB:     int64(v.MemoryMB),
		DeviceChange: changes,
		ExtraConfig:  extra,
		Files:        &types.VirtualMachineFileInfo{VmPathName: fmt.Sprintf("[%s]", c.datastore.Name())},
	}
	if v.Owner != "" {
		spec.Annotation = "Managed by planetstage, topology " + v.Owner
	}
	task, err := c.vmFolder.CreateVM(ctx, spec, c.pool, c.hostSys)
	if err == nil {
		var info *types.TaskInfo
		if info, err = task.WaitForResult(ctx, nil); err == nil {
			if ref, ok := info.Result.(types.ManagedObjectReference); ok {
				c.cacheVM(v.Name, &ref)
			}
		}
	}
	if isExists(err) {
		c.log.Debug("vm appeared meanwhile", "vm", v.Name)
		return false, nil
	}
	if err != nil {
		return false, c.errorf(v.object(), "create", err)
	}
	c.log.Debug("created vm", "vm", v.Name)
	return true, nil
}

func (c *Client) reconfigureVM(ctx context.Context, v VM, st *vmState, d *vmDiff) error {
	if (d.cpus || d.mem) && st.power == types.VirtualMachinePowerStatePoweredOn {
		return c.errorf(v.object(), "reconfigure",
			fmt.Errorf("CPU or memory differ (%s) and the VM is powered on; power it off and apply again", strings.Join(d.reasons, "; ")))
	}
	spec := types.VirtualMachineConfigSpec{ExtraConfig: d.extra}
	if d.cpus {
		spec.NumCPUs = int32(v.CPUs)
	}
	if d.mem {
		spec.MemoryMB = int64(v.MemoryMB)
	}
	if d.diskGrow != nil {
		d.diskGrow.CapacityInKB = int64(v.DiskGB) << 20
		spec.DeviceChange = append(spec.DeviceChange, &types.VirtualDeviceConfigSpec{
			Operation: types.VirtualDeviceConfigSpecOperationEdit, Device: d.diskGrow})
	}
	if d.nics {
		changes, err := c.nicChanges(ctx, v, st)
		if err != nil {
			return err
		}
		spec.DeviceChange = append(spec.DeviceChange, changes...)
	}
	task, err := st.ref.Reconfigure(ctx, spec)
	if err == nil {
		err = task.Wait(ctx)
	}
	return c.errorf(v.object(), "reconfigure", err)
}

// nicChanges re-backs NICs in place (the MAC address stays), replaces a
// NIC of the wrong type, adds missing ones and removes surplus ones.
func (c *Client) nicChanges(ctx context.Context, v VM, st *vmState) ([]types.BaseVirtualDeviceConfigSpec, error) {
	var out []types.BaseVirtualDeviceConfigSpec
	have := st.nics()
	for i, n := range v.NICs {
		if i < len(have) && nicType(have[i]) == n.Type {
			rebacked := backingName(have[i]) != n.PortGroup
			readdressed := n.MAC != "" && nicMAC(have[i]) != strings.ToLower(n.MAC)
			if !rebacked && !readdressed {
				continue
			}
			if rebacked {
				b, err := c.backing(ctx, v, n.PortGroup)
				if err != nil {
					return nil, err
				}
				have[i].(types.BaseVirtualEthernetCard).GetVirtualEthernetCard().Backing = b
			}
			if readdressed {
				setMAC(have[i], n.MAC)
			}
			out = append(out, &types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationEdit, Device: have[i]})
			continue
		}
		if i < len(have) {
			out = append(out, &types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationRemove, Device: have[i]})
		}
		nic, err := c.newNIC(ctx, v, n)
		if err != nil {
			return nil, err
		}
		out = append(out, &types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationAdd, Device: nic})
	}
	for i := len(v.NICs); i < len(have); i++ {
		out = append(out, &types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationRemove, Device: have[i]})
	}
	return out, nil
}

package esxi

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// OwnerKey is the extraConfig key that marks a VM as created by planetstage
// for one topology; destroy removes only VMs that carry the caller's value.
const OwnerKey = "planetstage.topology"

// VM is the wanted state of one virtual machine.
type VM struct {
	Name string
	// GuestID is the vSphere guest OS identifier; default "otherLinux64Guest".
	// Ubuntu: "ubuntu64Guest"; VyOS 1.2+ (Debian based): "debian10_64Guest".
	GuestID  string
	CPUs     int // default 1
	MemoryMB int // default 1024
	// DiskGB is the size of the boot disk; 0 creates no disk (the VM
	// boots from the network or from the disk an OVF brings). An existing
	// disk smaller than DiskGB is grown; it is never shrunk.
	DiskGB int
	// NICs, in order: the first is ethernet-0 (eth0 in the guest).
	NICs []NIC
	// ExtraConfig is added to the VM's advanced settings (.vmx), e.g.
	// "guestinfo.hostname". Keys are compared on re-apply; values are never
	// logged, they may hold secrets.
	ExtraConfig map[string]string
	// CloudInit is passed through guestinfo.* keys (cloud-init's VMware
	// datasource), which works on standalone ESXi without vCenter.
	CloudInit *CloudInit
	// Owner is written as extraConfig OwnerKey. A VM of the same name with
	// another owner (or none) is not touched: Inspect returns an error.
	Owner string
	// Source is an optional .ova or .ovf file to import (NFC lease upload)
	// instead of creating an empty VM; CPUs, memory, NICs and extraConfig
	// are then reconfigured to the values above.
	Source string
}

// NIC is one virtual network card.
type NIC struct {
	PortGroup string
	// Type is "vmxnet3" (default), "e1000" or "e1000e".
	Type string
	// MAC, when set, is the card's address, given rather than generated
	// (VMware's static range: 00:50:56:00:00:00 to 00:50:56:3f:ff:ff), so
	// that a guest's network configuration can name the card before the VM
	// exists. A card with another address is changed to it.
	MAC string
}

// StaticMAC says whether mac is in VMware's range for addresses given by
// hand, 00:50:56:00:00:00 to 00:50:56:3f:ff:ff (ESXi generates others).
func StaticMAC(mac string) bool {
	hw, err := net.ParseMAC(mac)
	return err == nil && len(hw) == 6 && hw[0] == 0x00 && hw[1] == 0x50 && hw[2] == 0x56 && hw[3] <= 0x3f
}

// nicMAC is the address of a card.
func nicMAC(d types.BaseVirtualDevice) string {
	return strings.ToLower(d.(types.BaseVirtualEthernetCard).GetVirtualEthernetCard().MacAddress)
}

// CloudInit holds cloud-init data for the VMware datasource (cloud-init
// 21.3+ with open-vm-tools in the guest). Each part is sent base64 encoded
// as guestinfo.<part> with guestinfo.<part>.encoding = base64.
type CloudInit struct {
	UserData   string // "#cloud-config\n..."
	MetaData   string // "instance-id: ...\nlocal-hostname: ...\nnetwork: ..."
	VendorData string
}

func (ci *CloudInit) extraConfig() map[string]string {
	out := map[string]string{}
	if ci == nil {
		return out
	}
	for key, v := range map[string]string{"userdata": ci.UserData, "metadata": ci.MetaData, "vendordata": ci.VendorData} {
		if v == "" {
			continue
		}
		out["guestinfo."+key] = base64.StdEncoding.EncodeToString([]byte(v))
		out["guestinfo."+key+".encoding"] = "base64"
	}
	return out
}

func (v VM) object() string { return fmt.Sprintf("vm %q", v.Name) }

func (v VM) withDefaults() VM {
	if v.GuestID == "" {
		v.GuestID = "otherLinux64Guest"
	}
	if v.CPUs == 0 {
		v.CPUs = 1
	}
	if v.MemoryMB == 0 {
		v.MemoryMB = 1024
	}
	nics := make([]NIC, len(v.NICs))
	for i, n := range v.NICs {
		if n.Type == "" {
			n.Type = "vmxnet3"
		}
		nics[i] = n
	}
	v.NICs = nics
	return v
}

func (v VM) validate() error {
	switch {
	case v.Name == "":
		return fmt.Errorf("empty name")
	case v.CPUs < 0 || v.MemoryMB < 0 || v.DiskGB < 0:
		return fmt.Errorf("negative size: cpus %d, memoryMB %d, diskGB %d", v.CPUs, v.MemoryMB, v.DiskGB)
	}
	for i, n := range v.NICs {
		if n.PortGroup == "" {
			return fmt.Errorf("nic %d: no port group", i)
		}
		switch n.Type {
		case "", "vmxnet3", "e1000", "e1000e":
		default:
			return fmt.Errorf("nic %d: type %q, want vmxnet3, e1000 or e1000e", i, n.Type)
		}
	}
	return nil
}

// wantExtraConfig is everything this package writes into extraConfig.
func (v VM) wantExtraConfig() map[string]string {
	out := v.CloudInit.extraConfig()
	maps.Copy(out, v.ExtraConfig)
	if v.Owner != "" {
		out[OwnerKey] = v.Owner
	}
	return out
}

// vmState is what Inspect reads of an existing VM.
type vmState struct {
	ref     *object.VirtualMachine
	cpus    int
	memMB   int
	power   types.VirtualMachinePowerState
	devices object.VirtualDeviceList
	extra   map[string]string
}

func (s *vmState) owner() string { return s.extra[OwnerKey] }

func (c *Client) readVM(ctx context.Context, name string) (*vmState, error) {
	for attempt := 0; ; attempt++ {
		ref, err := c.findVM(ctx, name)
		if err != nil || ref == nil {
			return nil, err
		}
		var m mo.VirtualMachine
		err = ref.Properties(ctx, ref.Reference(), []string{"name", "config", "runtime.powerState"}, &m)
		if err == nil && m.Name == name {
			return newVMState(ref, &m), nil
		}
		if err != nil && !isNotFound(err) {
			return nil, c.errorf(fmt.Sprintf("vm %q", name), "read config", err)
		}
		// Destroyed or renamed since it was cached: look it up afresh.
		c.cacheVM(name, nil)
		if attempt > 0 {
			return nil, nil
		}
	}
}

func newVMState(ref *object.VirtualMachine, m *mo.VirtualMachine) *vmState {
	st := &vmState{ref: ref, power: m.Runtime.PowerState, extra: map[string]string{}}
	if m.Config != nil {
		st.cpus = int(m.Config.Hardware.NumCPU)
		st.memMB = int(m.Config.Hardware.MemoryMB)
		st.devices = object.VirtualDeviceList(m.Config.Hardware.Device)
		for _, o := range m.Config.ExtraConfig {
			if ov := o.GetOptionValue(); ov != nil {
				st.extra[ov.Key] = fmt.Sprint(ov.Value)
			}
		}
	}
	return st
}

// VMInfo is what VMInfo reads back of a VM: enough to check NIC backings
// and sizing from a test or a report.
type VMInfo struct {
	Name     string
	CPUs     int
	MemoryMB int
	PowerOn  bool
	NICs     []NIC
	Owner    string
}

// VMInfo reads a VM back. A missing VM returns (nil, nil).
func (c *Client) VMInfo(ctx context.Context, name string) (*VMInfo, error) {
	st, err := c.readVM(ctx, name)
	if err != nil || st == nil {
		return nil, err
	}
	info := &VMInfo{Name: name, CPUs: st.cpus, MemoryMB: st.memMB, PowerOn: st.power == types.VirtualMachinePowerStatePoweredOn, Owner: st.owner()}
	for _, card := range st.nics() {
		n := NIC{PortGroup: backingName(card), Type: nicType(card)}
		if mac := nicMAC(card); StaticMAC(mac) {
			n.MAC = mac // a given address; a generated one is not ours to report
		}
		info.NICs = append(info.NICs, n)
	}
	return info, nil
}

// nics are the VM's cards in the order of their device keys, which is the
// order they were added in (eth0 first). The list's own order is not:
// govmomi's simulator moves an edited card to its end.
func (s *vmState) nics() object.VirtualDeviceList {
	l := s.devices.SelectByType((*types.VirtualEthernetCard)(nil))
	slices.SortStableFunc(l, func(a, b types.BaseVirtualDevice) int {
		return cmp.Compare(a.GetVirtualDevice().Key, b.GetVirtualDevice().Key)
	})
	return l
}

func backingName(d types.BaseVirtualDevice) string {
	card := d.(types.BaseVirtualEthernetCard).GetVirtualEthernetCard()
	if b, ok := card.Backing.(*types.VirtualEthernetCardNetworkBackingInfo); ok {
		return b.DeviceName
	}
	return fmt.Sprintf("%T", card.Backing)
}

// nicType names a card the way VM.NICs does.
func nicType(d types.BaseVirtualDevice) string {
	switch d.(type) {
	case *types.VirtualVmxnet3:
		return "vmxnet3"
	case *types.VirtualE1000:
		return "e1000"
	case *types.VirtualE1000e:
		return "e1000e"
	}
	return strings.ToLower(strings.TrimPrefix(fmt.Sprintf("%T", d), "*types.Virtual"))
}

func firstDisk(devs object.VirtualDeviceList) *types.VirtualDisk {
	for _, d := range devs.SelectByType((*types.VirtualDisk)(nil)) {
		return d.(*types.VirtualDisk)
	}
	return nil
}

// vmDiff lists what differs between a VM and its wanted state.
type vmDiff struct {
	reasons   []string
	cpus, mem bool
	nics      bool // any NIC added, removed, re-backed or retyped
	diskGrow  *types.VirtualDisk
	extra     []types.BaseOptionValue
}

func (d *vmDiff) empty() bool { return len(d.reasons) == 0 }

// diffVM compares; created says the VM was just made by this Apply (an
// import carries no owner mark yet), so its ownership is not checked.
func (c *Client) diffVM(want VM, st *vmState, created bool) (*vmDiff, error) {
	if want.Owner != "" && st.owner() != want.Owner && !created {
		how := "not created by planetstage"
		if o := st.owner(); o != "" {
			how = fmt.Sprintf("owned by topology %q", o)
		}
		return nil, fmt.Errorf("exists but is %s (extraConfig %s); rename it, remove it, or mark it with `govc vm.change -vm %s -e %s=%s`",
			how, OwnerKey, want.Name, OwnerKey, want.Owner)
	}
	d := &vmDiff{}
	if st.cpus != want.CPUs {
		d.cpus = true
		d.reasons = append(d.reasons, fmt.Sprintf("cpus %d→%d", st.cpus, want.CPUs))
	}
	if st.memMB != want.MemoryMB {
		d.mem = true
		d.reasons = append(d.reasons, fmt.Sprintf("memory %d→%d MB", st.memMB, want.MemoryMB))
	}
	if want.DiskGB > 0 {
		if disk := firstDisk(st.devices); disk != nil && disk.CapacityInKB < int64(want.DiskGB)<<20 {
			d.diskGrow = disk
			d.reasons = append(d.reasons, fmt.Sprintf("disk %d→%d GB", disk.CapacityInKB>>20, want.DiskGB))
		}
	}
	have := st.nics()
	for i, n := range want.NICs {
		if i >= len(have) {
			d.reasons = append(d.reasons, fmt.Sprintf("add nic %d on %s", i, n.PortGroup))
			d.nics = true
			continue
		}
		if pg := backingName(have[i]); pg != n.PortGroup {
			d.reasons = append(d.reasons, fmt.Sprintf("nic %d on %s, want %s", i, pg, n.PortGroup))
			d.nics = true
		}
		if typ := nicType(have[i]); typ != n.Type {
			d.reasons = append(d.reasons, fmt.Sprintf("nic %d is %s, want %s", i, typ, n.Type))
			d.nics = true
		}
		if mac := nicMAC(have[i]); n.MAC != "" && mac != strings.ToLower(n.MAC) {
			d.reasons = append(d.reasons, fmt.Sprintf("nic %d has address %s, want %s", i, mac, strings.ToLower(n.MAC)))
			d.nics = true
		}
	}
	for i := len(want.NICs); i < len(have); i++ {
		d.reasons = append(d.reasons, fmt.Sprintf("remove nic %d on %s", i, backingName(have[i])))
		d.nics = true
	}
	var keys []string
	for k, v := range want.wantExtraConfig() {
		if st.extra[k] != v {
			keys = append(keys, k)
			d.extra = append(d.extra, &types.OptionValue{Key: k, Value: v})
		}
	}
	if len(keys) > 0 {
		slices.Sort(keys)
		d.reasons = append(d.reasons, "extraConfig "+strings.Join(keys, ","))
	}
	return d, nil
}

package esxi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/planetstage/planetstage/plan"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// VSwitch is a standard virtual switch on one host.
type VSwitch struct {
	Name string
	// Uplinks are the physical NICs (e.g. "vmnic1") that connect the
	// switch to the physical network, trunking the port groups' VLANs.
	// None makes a host-internal switch: VMs on it reach only each other.
	Uplinks []string
	// MTU defaults to 1500.
	MTU int
}

// PortGroup is a port group on a standard vSwitch with a VLAN ID.
type PortGroup struct {
	Name    string
	VSwitch string
	// VLAN is 0 (untagged), 1–4094 (tagged, VST) or 4095 (all VLANs, VGT).
	VLAN int
}

// ValidVLAN checks a VLAN ID on our side: hosts reject IDs outside 0–4095,
// but govmomi's simulator stores anything.
func ValidVLAN(vlan int) error {
	if vlan < 0 || vlan > 4095 {
		return fmt.Errorf("VLAN %d out of range 0-4095 (0 untagged, 1-4094 tagged, 4095 trunk)", vlan)
	}
	return nil
}

func (s VSwitch) object() string      { return fmt.Sprintf("vswitch %q", s.Name) }
func (p PortGroup) object() string    { return fmt.Sprintf("port group %q", p.Name) }
func portGroupObject(n string) string { return fmt.Sprintf("port group %q", n) }

// networkInfo reads the host's switches and port groups in one call.
func (c *Client) networkInfo(ctx context.Context) (*types.HostNetworkInfo, error) {
	if err := c.ensureSession(ctx); err != nil {
		return nil, err
	}
	var ns mo.HostNetworkSystem
	if err := c.netSys.Properties(ctx, c.netSys.Reference(), []string{"networkInfo"}, &ns); err != nil {
		return nil, c.errorf("network system", "read networkInfo", err)
	}
	if ns.NetworkInfo == nil {
		return &types.HostNetworkInfo{}, nil
	}
	return ns.NetworkInfo, nil
}

// PortGroups returns the specs of every port group on the host.
func (c *Client) PortGroups(ctx context.Context) ([]PortGroup, error) {
	info, err := c.networkInfo(ctx)
	if err != nil {
		return nil, err
	}
	var out []PortGroup
	for _, pg := range info.Portgroup {
		out = append(out, PortGroup{Name: pg.Spec.Name, VSwitch: pg.Spec.VswitchName, VLAN: int(pg.Spec.VlanId)})
	}
	return out, nil
}

func findVSwitch(info *types.HostNetworkInfo, name string) *types.HostVirtualSwitch {
	for i := range info.Vswitch {
		if info.Vswitch[i].Name == name {
			return &info.Vswitch[i]
		}
	}
	return nil
}

func findPortGroup(info *types.HostNetworkInfo, name string) *types.HostPortGroupSpec {
	for i := range info.Portgroup {
		if info.Portgroup[i].Spec.Name == name {
			return &info.Portgroup[i].Spec
		}
	}
	return nil
}

// UplinkError is an uplink that is not a physical NIC of the host.
type UplinkError struct {
	Uplink string
	// Have are the host's physical NICs.
	Have []string
}

func (e *UplinkError) Error() string {
	return fmt.Sprintf("uplink %s is not a physical NIC of this host (it has %s)", e.Uplink, strings.Join(e.Have, ", "))
}

// checkUplinks returns an *UplinkError for the first uplink the host does
// not have. The physical NICs are read from the host's config, which both a
// real host and govmomi's simulator report (the simulator's network system
// lists none).
func (c *Client) checkUplinks(ctx context.Context, uplinks []string) error {
	if len(uplinks) == 0 {
		return nil
	}
	var host mo.HostSystem
	if err := c.hostSys.Properties(ctx, c.hostSys.Reference(), []string{"config.network.pnic"}, &host); err != nil {
		return c.errorf("host system", "read its physical NICs", err)
	}
	var have []string
	if host.Config != nil && host.Config.Network != nil {
		for _, p := range host.Config.Network.Pnic {
			have = append(have, p.Device)
		}
	}
	for _, u := range uplinks {
		if !slices.Contains(have, u) {
			return &UplinkError{Uplink: u, Have: have}
		}
	}
	return nil
}

// InspectVSwitch says what EnsureVSwitch would change. It changes nothing.
func (c *Client) InspectVSwitch(ctx context.Context, s VSwitch) (plan.Change, error) {
	if s.Name == "" {
		return plan.Change{}, c.errorf("vswitch", "inspect", fmt.Errorf("empty name"))
	}
	info, err := c.networkInfo(ctx)
	if err != nil {
		return plan.Change{}, err
	}
	if err := c.checkUplinks(ctx, s.Uplinks); err != nil {
		var ue *UplinkError
		if errors.As(err, &ue) {
			return plan.Change{}, c.errorf(s.object(), "inspect", err)
		}
		return plan.Change{}, err
	}
	vs := findVSwitch(info, s.Name)
	if vs == nil {
		how := "no uplink (host-internal)"
		if len(s.Uplinks) > 0 {
			how = "uplinks " + strings.Join(s.Uplinks, ", ")
		}
		return plan.Change{Action: plan.Create, Reason: fmt.Sprintf("vswitch %s missing; create with %s", s.Name, how)}, nil
	}
	// A real host always reports NumPorts; govmomi's simulator stores no
	// spec at all, so uplinks can only be compared where a spec is reported.
	if len(s.Uplinks) > 0 && vs.Spec.NumPorts != 0 {
		var have []string
		if b, ok := vs.Spec.Bridge.(*types.HostVirtualSwitchBondBridge); ok {
			have = b.NicDevice
		}
		for _, u := range s.Uplinks {
			if !slices.Contains(have, u) {
				return plan.Change{Action: plan.Update, Reason: fmt.Sprintf("vswitch %s uplinks %v, want %v", s.Name, have, s.Uplinks)}, nil
			}
		}
	}
	return noop(fmt.Sprintf("vswitch %s exists", s.Name)), nil
}

func (s VSwitch) spec() *types.HostVirtualSwitchSpec {
	mtu := s.MTU
	if mtu == 0 {
		mtu = 1500
	}
	spec := &types.HostVirtualSwitchSpec{NumPorts: 128, Mtu: int32(mtu)}
	if len(s.Uplinks) > 0 {
		spec.Bridge = &types.HostVirtualSwitchBondBridge{NicDevice: s.Uplinks}
	}
	return spec
}

// ApplyVSwitch makes the change InspectVSwitch reported.
func (c *Client) ApplyVSwitch(ctx context.Context, s VSwitch, ch plan.Change) error {
	c.netMu.Lock()
	defer c.netMu.Unlock()
	switch ch.Action {
	case plan.Create:
		err := c.netSys.AddVirtualSwitch(ctx, s.Name, s.spec())
		if isExists(err) {
			c.log.Debug("vswitch appeared meanwhile", "vswitch", s.Name)
			return nil
		}
		return c.errorf(s.object(), "add", err)
	case plan.Update:
		err := c.netSys.UpdateVirtualSwitch(ctx, s.Name, *s.spec())
		return c.errorf(s.object(), "update uplink", unsupported(err))
	}
	return nil
}

// EnsureVSwitch creates the switch when it is missing.
func (c *Client) EnsureVSwitch(ctx context.Context, s VSwitch) (plan.Change, error) {
	ch, err := c.InspectVSwitch(ctx, s)
	if err != nil || !changed(ch) {
		return ch, err
	}
	return ch, c.ApplyVSwitch(ctx, s, ch)
}

// InspectPortGroup says what EnsurePortGroup would change: create a missing
// port group, or update one whose VLAN drifted. A port group of that name
// on another vSwitch is an error: port group names are unique per host, and
// moving it would cut off the VMs on it.
func (c *Client) InspectPortGroup(ctx context.Context, p PortGroup) (plan.Change, error) {
	if p.Name == "" {
		return plan.Change{}, c.errorf("port group", "inspect", fmt.Errorf("empty name"))
	}
	if err := ValidVLAN(p.VLAN); err != nil {
		return plan.Change{}, c.errorf(p.object(), "inspect", err)
	}
	info, err := c.networkInfo(ctx)
	if err != nil {
		return plan.Change{}, err
	}
	have := findPortGroup(info, p.Name)
	if have == nil {
		return plan.Change{Action: plan.Create, Reason: fmt.Sprintf("port group %s missing; create on %s with VLAN %d", p.Name, p.VSwitch, p.VLAN)}, nil
	}
	if have.VswitchName != p.VSwitch {
		return plan.Change{}, c.errorf(p.object(), "inspect",
			fmt.Errorf("exists on vswitch %q, want %q; remove or rename it by hand", have.VswitchName, p.VSwitch))
	}
	if int(have.VlanId) != p.VLAN {
		return plan.Change{Action: plan.Update, Reason: fmt.Sprintf("port group %s has VLAN %d, want %d (drift)", p.Name, have.VlanId, p.VLAN)}, nil
	}
	return noop(fmt.Sprintf("port group %s on %s with VLAN %d", p.Name, p.VSwitch, p.VLAN)), nil
}

func (p PortGroup) spec() types.HostPortGroupSpec {
	// An empty policy inherits the vSwitch's security and teaming policy.
	return types.HostPortGroupSpec{Name: p.Name, VlanId: int32(p.VLAN), VswitchName: p.VSwitch, Policy: types.HostNetworkPolicy{}}
}

// ApplyPortGroup makes the change InspectPortGroup reported.
func (c *Client) ApplyPortGroup(ctx context.Context, p PortGroup, ch plan.Change) error {
	if err := ValidVLAN(p.VLAN); err != nil {
		return c.errorf(p.object(), string(ch.Action), err)
	}
	c.netMu.Lock()
	defer c.netMu.Unlock()
	switch ch.Action {
	case plan.Create:
		err := c.netSys.AddPortGroup(ctx, p.spec())
		if isExists(err) {
			// Created by someone else meanwhile; a re-inspect shows drift.
			c.log.Debug("port group appeared meanwhile", "portgroup", p.Name)
			return nil
		}
		return c.errorf(p.object(), "add", err)
	case plan.Update:
		err := c.netSys.UpdatePortGroup(ctx, p.Name, p.spec())
		return c.errorf(p.object(), fmt.Sprintf("update VLAN to %d", p.VLAN), unsupported(err))
	}
	return nil
}

// EnsurePortGroup creates the port group or fixes its VLAN.
func (c *Client) EnsurePortGroup(ctx context.Context, p PortGroup) (plan.Change, error) {
	ch, err := c.InspectPortGroup(ctx, p)
	if err != nil || !changed(ch) {
		return ch, err
	}
	return ch, c.ApplyPortGroup(ctx, p, ch)
}

// InspectRemovePortGroup says whether RemovePortGroup would remove name.
// Whether this program created it is the caller's record to keep.
func (c *Client) InspectRemovePortGroup(ctx context.Context, name string) (plan.Change, error) {
	info, err := c.networkInfo(ctx)
	if err != nil {
		return plan.Change{}, err
	}
	if findPortGroup(info, name) == nil {
		return noop(fmt.Sprintf("port group %s already absent", name)), nil
	}
	return plan.Change{Action: plan.Delete, Reason: fmt.Sprintf("remove port group %s", name)}, nil
}

// ApplyRemovePortGroup removes the port group; a missing one is no error.
// Remove the VMs on it first: ESXi refuses (ResourceInUse), the simulator
// does not check.
func (c *Client) ApplyRemovePortGroup(ctx context.Context, name string) error {
	c.netMu.Lock()
	defer c.netMu.Unlock()
	err := c.netSys.RemovePortGroup(ctx, name)
	if isNotFound(err) {
		return nil
	}
	return c.errorf(portGroupObject(name), "remove", err)
}

// RemovePortGroup removes the port group if it exists.
func (c *Client) RemovePortGroup(ctx context.Context, name string) (plan.Change, error) {
	ch, err := c.InspectRemovePortGroup(ctx, name)
	if err != nil || !changed(ch) {
		return ch, err
	}
	return ch, c.ApplyRemovePortGroup(ctx, name)
}

func unsupported(err error) error {
	if isMethodMissing(err) {
		return fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	return err
}

// InspectRemoveVSwitch says whether ApplyRemoveVSwitch would remove the
// switch. A switch that still carries port groups is left alone.
func (c *Client) InspectRemoveVSwitch(ctx context.Context, name string) (plan.Change, error) {
	info, err := c.networkInfo(ctx)
	if err != nil {
		return plan.Change{}, err
	}
	if findVSwitch(info, name) == nil {
		return noop(fmt.Sprintf("vswitch %s already absent", name)), nil
	}
	var left []string
	for _, pg := range info.Portgroup {
		if pg.Spec.VswitchName == name {
			left = append(left, pg.Spec.Name)
		}
	}
	if len(left) > 0 {
		return noop(fmt.Sprintf("vswitch %s still carries port groups %v; left alone", name, left)), nil
	}
	return plan.Change{Action: plan.Delete, Reason: fmt.Sprintf("remove vswitch %s", name)}, nil
}

// ApplyRemoveVSwitch removes the switch; a missing one is no error.
func (c *Client) ApplyRemoveVSwitch(ctx context.Context, name string) error {
	c.netMu.Lock()
	defer c.netMu.Unlock()
	err := c.netSys.RemoveVirtualSwitch(ctx, name)
	if isNotFound(err) {
		return nil
	}
	return c.errorf(fmt.Sprintf("vswitch %q", name), "remove", err)
}

package layer

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/planetstage/planetstage/esxi"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// esxiRoleDefaults size a machine's VM when neither the machine nor the
// topology's defaults say otherwise. Control planes get kubeadm's minimum
// of 2 CPUs with room for etcd; routers are small.
var esxiRoleDefaults = map[string]topology.VM{
	topology.RoleRouter:       {CPUs: 1, MemoryMB: 1024, DiskGB: 8},
	topology.RoleLoadBalancer: {CPUs: 1, MemoryMB: 1024, DiskGB: 10},
	topology.RoleControlPlane: {CPUs: 2, MemoryMB: 4096, DiskGB: 40},
	topology.RoleWorker:       {CPUs: 2, MemoryMB: 4096, DiskGB: 40},
	topology.RoleGeneric:      {CPUs: 1, MemoryMB: 2048, DiskGB: 20},
}

// esxiSizing merges, field by field, the role default, the topology's
// defaults for the role and the machine's own VM.
func esxiSizing(t *topology.Topology, m topology.Machine) topology.VM {
	out := esxiRoleDefaults[m.Role]
	layers := []*topology.VM{}
	if t.Defaults != nil {
		if d, ok := t.Defaults.VMs[m.Role]; ok {
			layers = append(layers, &d)
		}
	}
	layers = append(layers, m.VM)
	for _, l := range layers {
		if l == nil {
			continue
		}
		if l.CPUs != 0 {
			out.CPUs = l.CPUs
		}
		if l.MemoryMB != 0 {
			out.MemoryMB = l.MemoryMB
		}
		if l.DiskGB != 0 {
			out.DiskGB = l.DiskGB
		}
		if l.Image != "" {
			out.Image = l.Image
		}
	}
	return out
}

// esxiVM is machine m's VM: routers have the underlay NIC (eth0) and the
// site NIC (eth1), hosts only the site NIC, each with an address of its
// own (newVMMACs). Cloud-init meta-data names the machine and gives each card
// its address: a router its WAN and LAN addresses, a host its site
// address and the router as gateway. userData, when not empty, is its
// user-data (esxiUserData).
func esxiVM(t *topology.Topology, m topology.Machine, userData string, macs vmMACs) (esxi.VM, error) {
	size := esxiSizing(t, m)
	v := esxi.VM{Name: m.Name, GuestID: "ubuntu64Guest", CPUs: size.CPUs, MemoryMB: size.MemoryMB, DiskGB: size.DiskGB, Owner: t.Name}
	if img := size.Image; img != "" {
		low := strings.ToLower(img)
		if !strings.HasSuffix(low, ".ova") && !strings.HasSuffix(low, ".ovf") {
			return esxi.VM{}, fmt.Errorf("machine %s: image %q: on ESXi an image is an .ova or .ovf file", m.Name, img)
		}
		v.Source = img
	}
	meta := fmt.Sprintf("instance-id: %s-%s\nlocal-hostname: %s\n", t.Name, m.Name, m.Name)
	// Every card has an address of its own, given, so that the guest's
	// network configuration names each card before the VM exists.
	site := esxi.NIC{PortGroup: esxiSitePortGroup(t, m.Site)}
	if m.IsRouter() {
		if m.Site.Router.Kind == topology.RouterVyOS {
			v.GuestID = "debian10_64Guest" // VyOS 1.2+ is Debian based
		}
		wan := esxi.NIC{PortGroup: esxiUnderlayPortGroup(t), MAC: macs.of(m.Name, 0)}
		site.MAC = macs.of(m.Name, 1)
		v.NICs = []esxi.NIC{wan, site}
		meta += fmt.Sprintf("network:\n  version: 2\n  ethernets:\n"+
			"    wan:\n      match: {macaddress: \"%s\"}\n      addresses: [%s/%d]\n"+
			"    site:\n      match: {macaddress: \"%s\"}\n      addresses: [%s/%d]\n",
			wan.MAC, m.WAN, t.Underlay.Prefix.Bits(), site.MAC, m.Address, m.Site.Prefix.Bits())
	} else {
		site.MAC = macs.of(m.Name, 0)
		v.NICs = []esxi.NIC{site}
		meta += fmt.Sprintf("network:\n  version: 2\n  ethernets:\n    site:\n      match: {macaddress: \"%s\"}\n"+
			"      addresses: [%s/%d]\n      routes: [{to: default, via: %s}]\n",
			site.MAC, m.Address, m.Site.Prefix.Bits(), m.Site.Router.LAN)
	}
	v.CloudInit = &esxi.CloudInit{MetaData: meta, UserData: userData}
	return v, nil
}

// vmMACs are the addresses of every machine's cards (a router's WAN card
// 0 and site card 1, a host's site card 0), by "machine/card".
type vmMACs map[string]string

func (v vmMACs) of(machine string, card int) string { return v[machine+"/"+strconv.Itoa(card)] }

// newVMMACs gives every card of t's machines an address in VMware's range
// for addresses given by hand (00:50:56:00:00:00-00:50:56:3f:ff:ff), from
// a hash of the topology, the machine and the card, so that every run
// gives the same one. With 22 bits to draw from, a thousand-site testbed
// is all but sure to draw one address twice: a card whose address is
// taken, in the order of machine names, draws again from the hash with an
// attempt number, so no two cards share one. Adding a machine keeps every
// other card's address unless the new one draws exactly an address it
// would take first (about one in four million per pair).
func newVMMACs(t *topology.Topology) vmMACs {
	var keys []string
	for _, m := range t.Machines() {
		keys = append(keys, m.Name+"/0")
		if m.IsRouter() {
			keys = append(keys, m.Name+"/1")
		}
	}
	slices.Sort(keys)
	macs := make(vmMACs, len(keys))
	used := make(map[string]bool, len(keys))
	for _, k := range keys {
		for attempt := 0; ; attempt++ {
			seed := t.Name + "/" + k
			if attempt > 0 {
				seed += "/" + strconv.Itoa(attempt)
			}
			h := sha256.Sum256([]byte(seed))
			mac := fmt.Sprintf("00:50:56:%02x:%02x:%02x", h[0]&0x3f, h[1], h[2])
			if !used[mac] {
				used[mac] = true
				macs[k] = mac
				break
			}
		}
	}
	return macs
}

// esxiCreated is the state file that records what the layer created, so
// destroy removes only that. VMs carry their own mark (esxi.OwnerKey).
type esxiCreated struct {
	VSwitches  map[string][]string `json:"vswitches,omitempty"`  // hypervisor -> names
	PortGroups map[string][]string `json:"portGroups,omitempty"` // hypervisor -> names
}

const esxiStateFile = "esxi/created.json"

// esxiStateMu serialises the read-modify-write of esxiStateFile by
// parallel steps.
var esxiStateMu sync.Mutex

func (r *esxiLayerRun) created() (esxiCreated, error) {
	var c esxiCreated
	data, err := r.env.State.Read(esxiStateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("state %s: %w", esxiStateFile, err)
	}
	return c, nil
}

func (r *esxiLayerRun) isCreated(hyp, kind, name string) (bool, error) {
	esxiStateMu.Lock()
	defer esxiStateMu.Unlock()
	c, err := r.created()
	if err != nil {
		return false, err
	}
	m := map[string]map[string][]string{"vswitches": c.VSwitches, "portGroups": c.PortGroups}[kind]
	for _, n := range m[hyp] {
		if n == name {
			return true, nil
		}
	}
	return false, nil
}

// record adds (add=true) or removes a name under kind ("vswitches",
// "portGroups") for hypervisor hyp.
func (r *esxiLayerRun) record(hyp, kind, name string, add bool) error {
	esxiStateMu.Lock()
	defer esxiStateMu.Unlock()
	c, err := r.created()
	if err != nil {
		return err
	}
	ptr := map[string]*map[string][]string{"vswitches": &c.VSwitches, "portGroups": &c.PortGroups}[kind]
	if *ptr == nil {
		*ptr = map[string][]string{}
	}
	names := (*ptr)[hyp]
	var out []string
	for _, n := range names {
		if n != name {
			out = append(out, n)
		}
	}
	if add {
		out = append(out, name)
	}
	(*ptr)[hyp] = out
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return r.env.State.Write(esxiStateFile, append(data, '\n'), false)
}

// esxiDestroySteps removes the topology's VMs (only those marked with its
// name), then the port groups and the vSwitch the layer recorded as
// created. A hypervisor that cannot be reached fails its steps: nothing is
// known about it, so nothing is claimed to be gone.
func esxiDestroySteps(t *topology.Topology, env *Env, on []topology.Hypervisor) ([]plan.Node, error) {
	r := newESXiRun(t, env)
	hyps, pgs := esxiHostNetworks(t, on)
	vmSteps := map[string][]string{}
	var nodes []plan.Node
	for _, m := range onHypervisors(t, on) {
		h, _ := t.Hypervisor(m.Site.Hypervisor)
		id := "esxi/destroy/vm/" + m.Name
		vmSteps[h.Name] = append(vmSteps[h.Name], id)
		nodes = append(nodes, r.step(id, fmt.Sprintf("vm %s on %s", m.Name, h.Name), nil, h, nil,
			func(ctx context.Context, c *esxi.Client) (plan.Change, error) {
				return c.InspectDestroyVM(ctx, m.Name, t.Name)
			},
			func(ctx context.Context, c *esxi.Client, _ plan.Change) error {
				return c.ApplyDestroyVM(ctx, m.Name, t.Name)
			}))
	}
	for _, h := range hyps {
		var pgIDs []string
		for _, p := range pgs[h.Name] {
			id := "esxi/destroy/portgroup/" + h.Name + "/" + p.Name
			pgIDs = append(pgIDs, id)
			nodes = append(nodes, r.step(id, fmt.Sprintf("port group %s on %s", p.Name, h.Name), vmSteps[h.Name], h, nil,
				func(ctx context.Context, c *esxi.Client) (plan.Change, error) {
					mine, err := r.isCreated(h.Name, "portGroups", p.Name)
					if err != nil || !mine {
						return plan.Change{Action: plan.NoOp, Reason: fmt.Sprintf("port group %s was not created by planetstage; left alone", p.Name)}, err
					}
					return c.InspectRemovePortGroup(ctx, p.Name)
				},
				func(ctx context.Context, c *esxi.Client, _ plan.Change) error {
					if err := c.ApplyRemovePortGroup(ctx, p.Name); err != nil {
						return err
					}
					return r.record(h.Name, "portGroups", p.Name, false)
				}))
		}
		sw := esxiSwitchName(t, h)
		nodes = append(nodes, r.step("esxi/destroy/vswitch/"+h.Name, fmt.Sprintf("vswitch %s on %s", sw, h.Name), pgIDs, h, nil,
			func(ctx context.Context, c *esxi.Client) (plan.Change, error) {
				mine, err := r.isCreated(h.Name, "vswitches", sw)
				if err != nil || !mine {
					return plan.Change{Action: plan.NoOp, Reason: fmt.Sprintf("vswitch %s was not created by planetstage; left alone", sw)}, err
				}
				return c.InspectRemoveVSwitch(ctx, sw)
			},
			func(ctx context.Context, c *esxi.Client, _ plan.Change) error {
				if err := c.ApplyRemoveVSwitch(ctx, sw); err != nil {
					return err
				}
				return r.record(h.Name, "vswitches", sw, false)
			}))
	}
	return nodes, nil
}

// esxiRender shows the VM the layer would build for machine: sizing, NICs
// with their port groups and VLANs, and the cloud-init meta-data (which
// holds no secrets).
func esxiRender(t *topology.Topology, env *Env, machine string) ([]Artifact, error) {
	m, ok := t.Machine(machine)
	if !ok || m.Site.Hypervisor == "" {
		return nil, nil
	}
	// The user-data as the VM gets it, the host key's private half
	// redacted; what stops it from being made is said in its place.
	authorized, err := authorizedKey(t)
	if err != nil {
		authorized = "# " + err.Error()
	}
	userData := "(not rendered without a state directory)\n"
	switch {
	case isVyOS(m):
		if userData, err = vyosUserData(t, m, authorized); err != nil {
			userData = "(none: " + err.Error() + ")\n"
		}
	case env != nil && env.State != nil:
		key, pub, err := vmHostKey(env, m.Name)
		if err != nil {
			return nil, err
		}
		userData = esxiUserData(t, m, key, pub, authorized, env.ShowSecrets)
	}
	v, err := esxiVM(t, m, "", newVMMACs(t))
	if err != nil {
		return nil, err
	}
	hyp, _ := t.Hypervisor(m.Site.Hypervisor)
	vlan := map[string]int{esxiUnderlayPortGroup(t): t.Underlay.VLAN}
	for _, s := range t.Sites {
		vlan[esxiSitePortGroup(t, s)] = s.VLAN
	}
	var b strings.Builder
	fmt.Fprintf(&b, "vm %s on hypervisor %s (guest %s)\n", v.Name, m.Site.Hypervisor, v.GuestID)
	fmt.Fprintf(&b, "cpus: %d\nmemoryMB: %d\ndiskGB: %d\n", v.CPUs, v.MemoryMB, v.DiskGB)
	if v.Source != "" {
		fmt.Fprintf(&b, "source: %s\n", v.Source)
	}
	for i, n := range v.NICs {
		fmt.Fprintf(&b, "nic%d: vmxnet3 on port group %s (VLAN %d, vSwitch %s)\n", i, n.PortGroup, vlan[n.PortGroup], esxiSwitchName(t, hyp))
	}
	fmt.Fprintf(&b, "extraConfig %s: %s\n", esxi.OwnerKey, t.Name)
	return []Artifact{
		{Title: "esxi vm", Content: b.String()},
		{Title: "cloud-init meta-data (guestinfo.metadata)", Content: v.CloudInit.MetaData},
		{Title: "cloud-init user-data (guestinfo.userdata)", Content: userData},
	}, nil
}

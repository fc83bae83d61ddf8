package esxi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/esxi"
	"github.com/planetstage/planetstage/plan"
)

// thesisHost is what one of the thesis's two ESXi hosts carries.
type thesisHost struct {
	portGroups []esxi.PortGroup
	vms        []esxi.VM
}

const thesisSwitch = "vSwitch-staging"

func pg(name string, vlan int) esxi.PortGroup {
	return esxi.PortGroup{Name: name, VSwitch: thesisSwitch, VLAN: vlan}
}

func vm(name string, cpus, mem int, pgs ...string) esxi.VM {
	v := esxi.VM{Name: name, GuestID: "ubuntu64Guest", CPUs: cpus, MemoryMB: mem, DiskGB: 2, Owner: "thesis",
		CloudInit: &esxi.CloudInit{MetaData: "local-hostname: " + name + "\n", UserData: "#cloud-config\n"}}
	for _, p := range pgs {
		v.NICs = append(v.NICs, esxi.NIC{PortGroup: p})
	}
	return v
}

// thesisLayout is the 2019 testbed: VLAN 0 underlay on both hosts; sites A
// (VLAN 10) and B (VLAN 20) on esxi1, site C (VLAN 30) on esxi2; 3 routers,
// the load balancer, 3 masters and 4 workers: 11 VMs.
func thesisLayout() [2]thesisHost {
	router := func(name, site string) esxi.VM {
		v := vm(name, 1, 512, "underlay", site)
		v.GuestID = "debian10_64Guest"
		return v
	}
	return [2]thesisHost{
		{
			portGroups: []esxi.PortGroup{pg("underlay", 0), pg("site-a", 10), pg("site-b", 20)},
			vms: []esxi.VM{
				router("vyos01", "site-a"), router("vyos02", "site-b"),
				vm("lb", 1, 1024, "site-a"),
				vm("master01", 2, 2048, "site-a"), vm("master02", 2, 2048, "site-a"), vm("master03", 2, 2048, "site-a"),
				vm("node01", 2, 2048, "site-b"), vm("node02", 2, 2048, "site-b"),
			},
		},
		{
			portGroups: []esxi.PortGroup{pg("underlay", 0), pg("site-c", 30)},
			vms: []esxi.VM{
				router("vyos03", "site-c"),
				vm("node03", 2, 2048, "site-c"), vm("node04", 2, 2048, "site-c"),
			},
		},
	}
}

// applyHost ensures everything on one host and counts the actions.
func applyHost(ctx context.Context, t *testing.T, c *esxi.Client, h thesisHost) map[plan.Action]int {
	t.Helper()
	counts := map[plan.Action]int{}
	record := func(ch plan.Change, err error) {
		require.NoError(t, err)
		counts[ch.Action]++
	}
	record(c.EnsureVSwitch(ctx, esxi.VSwitch{Name: thesisSwitch}))
	for _, p := range h.portGroups {
		record(c.EnsurePortGroup(ctx, p))
	}
	for _, v := range h.vms {
		record(c.EnsureVM(ctx, v))
		record(c.EnsurePower(ctx, v.Name, true))
	}
	return counts
}

func TestThesisTwoHosts(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	layout := thesisLayout()
	sims := [2]*simHost{newSimHost(t, true), newSimHost(t, true)}
	require.NotEqual(t, sims[0].URL, sims[1].URL, "two hosts side by side")
	var clients [2]*esxi.Client
	for i := range sims {
		clients[i] = sims[i].connect(t)
		assert.True(t, clients[i].IsStandalone(), "simulator must run as standalone ESXi")
	}

	// First apply creates everything: 1 vswitch, port groups, VMs, power-ons.
	total := 0
	for i, c := range clients {
		counts := applyHost(ctx, t, c, layout[i])
		n := 1 + len(layout[i].portGroups) + len(layout[i].vms)
		assert.Equal(t, n, counts[plan.Create], "host %d creates", i)
		assert.Equal(t, len(layout[i].vms), counts[plan.Update], "host %d power-ons", i)
		total += len(layout[i].vms)
	}
	require.Equal(t, 11, total)

	// Every port group has its VLAN, every NIC its port group.
	for i, c := range clients {
		pgs, err := c.PortGroups(ctx)
		require.NoError(t, err)
		got := map[string]int{}
		for _, p := range pgs {
			got[p.Name] = p.VLAN
		}
		for _, want := range layout[i].portGroups {
			assert.Equal(t, want.VLAN, got[want.Name], "host %d port group %s VLAN", i, want.Name)
		}
		for _, want := range layout[i].vms {
			info, err := c.VMInfo(ctx, want.Name)
			require.NoError(t, err)
			require.NotNil(t, info, want.Name)
			assert.True(t, info.PowerOn, "%s powered on", want.Name)
			assert.Equal(t, want.CPUs, info.CPUs, want.Name)
			assert.Equal(t, want.MemoryMB, info.MemoryMB, want.Name)
			assert.Equal(t, "thesis", info.Owner, want.Name)
			require.Len(t, info.NICs, len(want.NICs), want.Name)
			for j, nic := range want.NICs {
				assert.Equal(t, nic.PortGroup, info.NICs[j].PortGroup, "%s nic %d", want.Name, j)
				assert.Equal(t, "vmxnet3", info.NICs[j].Type, "%s nic %d", want.Name, j)
			}
		}
	}
	// The hosts are separate: site-c exists only on the second one.
	info, err := clients[0].VMInfo(ctx, "node03")
	require.NoError(t, err)
	assert.Nil(t, info, "node03 lives on esxi2 only")

	// Re-apply: nothing changes.
	for i, c := range clients {
		counts := applyHost(ctx, t, c, layout[i])
		assert.Equal(t, map[plan.Action]int{plan.NoOp: 1 + len(layout[i].portGroups) + 2*len(layout[i].vms)}, counts, "host %d re-apply", i)
	}

	// Drift: someone moves site-c to VLAN 31 by hand; Inspect sees it,
	// Ensure fixes it, and the next Inspect is clean.
	c2 := clients[1]
	_, err = c2.EnsurePortGroup(ctx, pg("site-c", 31))
	require.NoError(t, err)
	ch, err := c2.InspectPortGroup(ctx, pg("site-c", 30))
	require.NoError(t, err)
	assert.Equal(t, plan.Update, ch.Action)
	assert.Contains(t, ch.Reason, "VLAN 31, want 30")
	ch, err = c2.EnsurePortGroup(ctx, pg("site-c", 30))
	require.NoError(t, err)
	assert.Equal(t, plan.Update, ch.Action)
	ch, err = c2.InspectPortGroup(ctx, pg("site-c", 30))
	require.NoError(t, err)
	assert.Equal(t, plan.NoOp, ch.Action, ch.Reason)

	// Destroy: VMs first (a real host refuses to remove a port group in
	// use), then port groups; a second destroy finds nothing to do.
	for round := range 2 {
		for i, c := range clients {
			for _, v := range layout[i].vms {
				ch, err := c.DestroyVM(ctx, v.Name, "thesis")
				require.NoError(t, err)
				assert.Equal(t, map[int]plan.Action{0: plan.Delete, 1: plan.NoOp}[round], ch.Action, "round %d %s", round, v.Name)
			}
			for _, p := range layout[i].portGroups {
				ch, err := c.RemovePortGroup(ctx, p.Name)
				require.NoError(t, err)
				assert.Equal(t, map[int]plan.Action{0: plan.Delete, 1: plan.NoOp}[round], ch.Action, "round %d %s", round, p.Name)
			}
		}
	}
	for i, c := range clients {
		pgs, err := c.PortGroups(ctx)
		require.NoError(t, err)
		for _, p := range pgs {
			assert.NotContains(t, []string{"underlay", "site-a", "site-b", "site-c"}, p.Name, "host %d", i)
		}
		for _, v := range layout[i].vms {
			info, err := c.VMInfo(ctx, v.Name)
			require.NoError(t, err)
			assert.Nil(t, info, fmt.Sprintf("host %d %s destroyed", i, v.Name))
		}
	}
}

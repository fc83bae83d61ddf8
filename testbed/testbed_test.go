package testbed_test

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/planetstage/planetstage/experiment"
	"github.com/planetstage/planetstage/inventory"
	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/reach"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/testbed"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// twoSites: two sites on machines that exist (no hypervisor), Linux routers
// joined by one OpenVPN tunnel, a host in each. Addresses 10.56/16 and
// 172.56/16 are this package's (twoSitesOn 57 takes 10.57/16 and
// 172.57/16).
func twoSites(name string) *topology.Topology { return twoSitesOn(name, 56) }

func twoSitesOn(name string, net int) *topology.Topology {
	addr, pfx := netip.MustParseAddr, netip.MustParsePrefix
	lan, wan := "172."+strconv.Itoa(net)+".", "10."+strconv.Itoa(net)+"."
	site := func(n int) topology.Site {
		p := pfx(lan + strconv.Itoa(n*10) + ".0/24")
		return topology.Site{Name: "s" + strconv.Itoa(n), VLAN: n * 10, Prefix: p,
			Router: topology.Router{Name: "r" + strconv.Itoa(n), Kind: topology.RouterLinux, WAN: addr(wan + "0." + strconv.Itoa(10+n)), LAN: p.Addr().Next()},
			Hosts:  []topology.Host{{Name: "h" + strconv.Itoa(n), Address: addr(lan + strconv.Itoa(n*10) + ".101"), Role: topology.RoleWorker}}}
	}
	t := &topology.Topology{
		APIVersion: topology.APIVersion, Kind: topology.Kind, Name: name,
		Underlay: topology.Underlay{Prefix: pfx(wan + "0.0/16")},
		Sites:    []topology.Site{site(1), site(2)},
		VPN:      &topology.VPN{Mode: topology.VPNMesh, Auth: topology.VPNAuthTLS, Transit: pfx("10.255.0.0/16"), Port: 1194},
	}
	t.SetDefaults()
	return t
}

// TestHardwareWithoutReachingIt: on hardware, the offline plan names every
// step, the inventory is the file's, and the ssh command line jumps
// through the router, all without reaching a machine (none of these
// addresses is on this machine).
func TestHardwareWithoutReachingIt(t *testing.T) {
	ctx := t.Context()
	tb, err := testbed.Open(ctx, twoSites("tbtest-hw"), testbed.Options{StateDir: t.TempDir()})
	require.NoError(t, err)
	defer tb.Close(ctx)
	assert.False(t, tb.IsLab())
	require.NotNil(t, tb.Env())

	res, err := tb.Plan(ctx, testbed.PlanOptions{Offline: true})
	require.NoError(t, err)
	var ids []string
	for _, s := range res.Steps {
		ids = append(ids, s.ID)
	}
	assert.Contains(t, ids, topology.MachineUpID("r1"))
	assert.Contains(t, strings.Join(ids, " "), "routers/", "the routers layer is planned")

	_, err = tb.Lab(ctx)
	assert.Error(t, err)
	inv, err := tb.Inventory(ctx)
	require.NoError(t, err)
	assert.Equal(t, inventory.FromModel, inv.Source, "the file's model: no machine contacted")
	argv, err := tb.SSHCommand(ctx, "h2", "true")
	require.NoError(t, err)
	assert.Contains(t, strings.Join(argv, " "), "-W %h:%p root@10.56.0.12", "a host is reached through its site's router")
	assert.Contains(t, argv, "StrictHostKeyChecking=yes")

	// The thesis's experiments refuse bad input before touching anything:
	// a site that is not there, a machine outside any hypervisor, a
	// testbed without a cluster.
	h := topology.Host{Name: "h3", Address: netip.MustParseAddr("172.56.10.102"), Role: topology.RoleWorker}
	add, err := tb.AddNode(ctx, "nowhere", h, testbed.ApplyOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "add node h3: ")
	assert.Contains(t, err.Error(), `"nowhere"`)
	assert.Equal(t, testbed.NodeAddition{Node: "h3", Site: "nowhere", Seconds: add.Seconds}, add, "not Ready, no walk")
	_, ok := tb.Topology().Machine("h3")
	assert.False(t, ok, "the topology did not grow")
	assert.ErrorIs(t, tb.StopMachine(ctx, "h1"), layer.ErrNoPowerSwitch, "h1 exists outside any hypervisor")
	assert.ErrorIs(t, tb.StartMachine(ctx, "h1"), layer.ErrNoPowerSwitch)
	_, err = tb.LoseControlPlane(ctx, "h1", testbed.ApplyOptions{})
	assert.Error(t, err, "no cluster, so no control plane to lose")
}

// TestLabRefusesWhatItCannotDo: the lab has no offline plan and is removed
// whole, and a lab that is not up says so with lab.ErrNotUp.
func TestLabRefusesWhatItCannotDo(t *testing.T) {
	ctx := t.Context()
	tb, err := testbed.Open(ctx, twoSites("tbtest-absent"), testbed.Options{Lab: true, LabStateDir: t.TempDir()})
	require.NoError(t, err)
	defer tb.Close(ctx)
	assert.True(t, tb.IsLab())
	assert.Nil(t, tb.Env())
	_, err = tb.Plan(ctx, testbed.PlanOptions{Offline: true})
	assert.ErrorContains(t, err, "offline")
	_, err = tb.Destroy(ctx, testbed.DestroyOptions{Layers: []string{layer.Routers}})
	assert.ErrorContains(t, err, "removed whole")
	if _, err := tb.Lab(ctx); err != nil && !errors.Is(err, lab.ErrNotUp) {
		t.Skipf("needs a running Docker engine: %v", err)
	} else {
		assert.ErrorIs(t, err, lab.ErrNotUp)
	}
	_, err = tb.Matrix(ctx)
	assert.ErrorIs(t, err, lab.ErrNotUp)
}

// TestLabRoundTrip drives a lab through the testbed only, as a harness
// would: Apply brings it up and returns once the tunnel carries every
// pair, a second Apply changes nothing, Plan agrees, the matrix and the
// WAN measurement read it, and Destroy removes it.
func TestLabRoundTrip(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
	defer cancel()
	var progress strings.Builder
	tb := labTestbed(ctx, t, twoSites("tbtest-trip"), &progress)

	layers := []string{layer.Machines, layer.Routers}
	res, err := tb.Apply(ctx, testbed.ApplyOptions{Layers: layers})
	require.NoError(t, err)
	assert.NotZero(t, res.Summary().Created, "a fresh lab is built")
	assert.Contains(t, progress.String(), string(lab.PhaseMachines), "the lab's phases reach Progress")
	assert.Equal(t, "tbtest-trip", tb.Topology().Name)

	m, err := tb.Matrix(ctx)
	require.NoError(t, err)
	require.NoError(t, m.CheckConnected(), "Apply returned before the tunnel carried traffic:\n%s", m.Table())

	again, err := tb.Apply(ctx, testbed.ApplyOptions{Layers: layers})
	require.NoError(t, err)
	assert.Equal(t, plan.Summary{Unchanged: len(again.Steps)}, again.Summary(), "a second apply changes nothing")
	planned, err := tb.Plan(ctx, testbed.PlanOptions{Layers: layers})
	require.NoError(t, err)
	assert.Equal(t, plan.Summary{Unchanged: len(planned.Steps)}, planned.Summary(), "the plan agrees")

	// The same matrix, measured as on hardware: the lab's machines as
	// machines that exist, reached over real SSH with the lab's key and
	// host keys checked, a host through its router.
	hw := tb.Topology().Clone()
	l, err := tb.Lab(ctx)
	require.NoError(t, err)
	hw.SSH = &topology.SSH{User: "root", IdentityFile: l.IdentityFile(), KnownHosts: l.KnownHostsFile()}
	htb, err := testbed.Open(ctx, hw, testbed.Options{StateDir: t.TempDir()})
	require.NoError(t, err)
	defer htb.Close(ctx)
	hm, err := htb.Matrix(ctx)
	require.NoError(t, err)
	assert.Equal(t, m.Machines, hm.Machines)
	require.NoError(t, hm.CheckConnected(), "over SSH:\n%s", hm.Table())

	hardwareFaults(ctx, t, htb)

	rep, err := tb.MeasureWAN(ctx, layer.MeasureOptions{Pings: 3}, nil)
	require.NoError(t, err)
	require.Len(t, rep.Sites, 1)
	assert.Positive(t, rep.Sites[0].MeasuredMs, "the tunnel answered pings")

	_, err = tb.Destroy(ctx, testbed.DestroyOptions{})
	require.NoError(t, err)
	_, err = tb.Matrix(ctx)
	assert.ErrorIs(t, err, lab.ErrNotUp, "Destroy removed the lab")
}

// hardwareFaults makes an experiment's faults as it makes them on
// hardware (experiment.ForTestbed), on machines that exist: the tunnel cut
// on both routers and healed, a shape that needs the routers' netem, a
// machine outside any hypervisor refused, and the facts a results folder
// records.
func hardwareFaults(ctx context.Context, t *testing.T, htb *testbed.Testbed) {
	t.Helper()
	hx, err := experiment.ForTestbed(ctx, htb)
	require.NoError(t, err)
	hw := htb.Topology()

	require.NoError(t, hx.SetCut(ctx, "s1", "s2", true))
	require.NoError(t, hx.SetCut(ctx, "s2", "s1", true), "cutting twice is cutting once")
	cut, err := htb.Matrix(ctx)
	require.NoError(t, err)
	assert.Empty(t, cut.Mismatches(reach.WithinSites(hw)), "while cut, exactly the pairs within a site answer:\n%s", cut.Table())
	require.NoError(t, hx.SetCut(ctx, "s1", "s2", false))
	healed, err := htb.Matrix(ctx)
	require.NoError(t, err)
	require.NoError(t, healed.CheckConnected(), "healed:\n%s", healed.Table())
	for _, router := range []string{"r1", "r2"} {
		r, err := htb.Env().Dial(ctx, router)
		require.NoError(t, err)
		rules, err := remote.Output(ctx, r, "iptables -S")
		require.NoError(t, err)
		assert.NotContains(t, rules, "planetstage-cut", "healing removed every rule the cut added on %s", router)
	}
	assert.ErrorContains(t, hx.SetCut(ctx, "s1", "s9", true), `no tunnel joins sites "s1" and "s9"`)

	shape := wan.Shape{Delay: 20 * time.Millisecond}
	if err := hx.SetShape(ctx, "s1", "s2", shape); err != nil {
		// This machine's kernel has no netem: the router's tc said so.
		assert.ErrorContains(t, err, "the kernel has no netem qdisc")
		assert.ErrorContains(t, err, "router r1")
	} else {
		ab, ba, err := hx.Shape("s2", "s1")
		require.NoError(t, err)
		assert.Equal(t, [2]wan.Shape{shape, shape}, [2]wan.Shape{ab, ba})
		r, err := htb.Env().Dial(ctx, "r2")
		require.NoError(t, err)
		qdisc, err := remote.Output(ctx, r, "tc qdisc show")
		require.NoError(t, err)
		assert.Contains(t, qdisc, "netem")
		require.NoError(t, hx.SetShape(ctx, "s1", "s2", wan.Shape{}))
	}

	err = hx.StopMachine(ctx, "h1")
	assert.ErrorIs(t, err, layer.ErrNoPowerSwitch, "h1 exists outside any hypervisor")

	f := hx.Facts(ctx)
	assert.Equal(t, "hardware tbtest-trip", f["testbed"])
	assert.Contains(t, f["openvpn"], "OpenVPN", "read from the first router")
	assert.Contains(t, f["router.kernel"], "(r1)")
	assert.NotContains(t, f, "docker")
}

// TestHardwarePowerCycle: on hardware StopMachine and StartMachine go
// through the hypervisor's API, as losing a master does. The lab's machines
// stand in for the hardware: its ESXi simulator is the hypervisor (reached
// over HTTPS with the pinned thumbprint and the GOVC_* credentials, as a
// real host), and h1 a VM on it. A govmomi session of the test's own reads
// the VM off after StopMachine and on again after StartMachine, which
// returned only once h1 answered over real SSH. (The
// lab's container keeps running throughout: the simulator's power state
// is all the hardware testbed changes, so that h1 answering proves only
// the wait, not a boot.)
func TestHardwarePowerCycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	topo := twoSitesOn("tbtest-power", 57)
	topo.Hypervisors = []topology.Hypervisor{{Name: "esxi1", URL: "https://192.0.2.13/sdk"}}
	topo.Sites[0].Hypervisor = "esxi1"
	topo.SetDefaults()
	require.NoError(t, topo.Validate())
	tb := labTestbed(ctx, t, topo, nil)
	_, err := tb.Apply(ctx, testbed.ApplyOptions{Layers: []string{layer.Machines}})
	require.NoError(t, err)

	l, err := tb.Lab(ctx)
	require.NoError(t, err)
	hw := tb.Topology().Clone()
	hw.SSH = &topology.SSH{User: "root", IdentityFile: l.IdentityFile(), KnownHosts: l.KnownHostsFile()}
	t.Setenv("GOVC_USERNAME", l.Getenv("GOVC_USERNAME"))
	t.Setenv("GOVC_PASSWORD", l.Getenv("GOVC_PASSWORD"))
	htb, err := testbed.Open(ctx, hw, testbed.Options{StateDir: t.TempDir()})
	require.NoError(t, err)
	defer htb.Close(ctx)
	power := func() types.VirtualMachinePowerState {
		t.Helper()
		return vmPower(ctx, t, hw.Hypervisors[0], "h1")
	}

	require.NoError(t, htb.StopMachine(ctx, "h1"))
	assert.Equal(t, types.VirtualMachinePowerStatePoweredOff, power())
	require.NoError(t, htb.StopMachine(ctx, "h1"), "a machine already off is no error")
	require.NoError(t, htb.StartMachine(ctx, "h1"))
	assert.Equal(t, types.VirtualMachinePowerStatePoweredOn, power())
	assert.ErrorIs(t, htb.StopMachine(ctx, "h2"), layer.ErrNoPowerSwitch, "h2's site has no hypervisor")
}

// vmPower reads VM name's power state from hypervisor h as govc would, on
// a session of its own (thumbprint pinned, the GOVC_* credentials).
func vmPower(ctx context.Context, t *testing.T, h topology.Hypervisor, name string) types.VirtualMachinePowerState {
	t.Helper()
	u, err := soap.ParseURL(h.URL)
	require.NoError(t, err)
	sc := soap.NewClient(u, false)
	sc.SetThumbprint(u.Host, h.Thumbprint)
	vc, err := vim25.NewClient(ctx, sc)
	require.NoError(t, err)
	sm := session.NewManager(vc)
	require.NoError(t, sm.Login(ctx, url.UserPassword(os.Getenv("GOVC_USERNAME"), os.Getenv("GOVC_PASSWORD"))))
	defer sm.Logout(context.WithoutCancel(ctx))
	f := find.NewFinder(vc, true)
	dc, err := f.DefaultDatacenter(ctx)
	require.NoError(t, err)
	vm, err := f.SetDatacenter(dc).VirtualMachine(ctx, name)
	require.NoError(t, err)
	st, err := vm.PowerState(ctx)
	require.NoError(t, err)
	return st
}

// labTestbed opens topo's lab as a testbed (Apply brings it up), skips the
// test without a Docker engine, and removes the lab when the test ends.
func labTestbed(ctx context.Context, t *testing.T, topo *topology.Topology, progress io.Writer) *testbed.Testbed {
	t.Helper()
	tb, err := testbed.Open(ctx, topo, testbed.Options{Lab: true, LabStateDir: t.TempDir(), Progress: progress})
	require.NoError(t, err)
	t.Cleanup(func() { _ = tb.Close(context.Background()) })
	if _, err := tb.Lab(ctx); err != nil && !errors.Is(err, lab.ErrNotUp) {
		t.Skipf("needs a running Docker engine: %v", err)
	}
	t.Cleanup(func() {
		_, err := tb.Destroy(context.Background(), testbed.DestroyOptions{})
		assert.NoError(t, err)
	})
	return tb
}

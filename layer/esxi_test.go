package layer_test

import (
	"context"
	"encoding/base64"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"sigs.k8s.io/yaml"

	"github.com/planetstage/planetstage/esxi"
	"github.com/planetstage/planetstage/esxi/esxitest"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// thesisOnSimulators loads the thesis topology and points its two
// hypervisors at two simulated standalone ESXi hosts.
func thesisOnSimulators(t *testing.T) (*topology.Topology, [2]*esxitest.Host) {
	t.Helper()
	data, err := os.ReadFile("../examples/thesis/thesis.yaml")
	require.NoError(t, err)
	topo, err := topology.Parse("thesis.yaml", data)
	require.NoError(t, err)
	sims := [2]*esxitest.Host{esxitest.New(t, esxitest.Options{}), esxitest.New(t, esxitest.Options{})}
	require.Len(t, topo.Hypervisors, 2)
	// The key new VMs authorize: the file's (~/.ssh/id_ed25519) is not on
	// a test machine.
	topo.SSH.IdentityFile = esxitest.Identity(t)
	for i := range topo.Hypervisors {
		topo.Hypervisors[i].URL = sims[i].URL
		topo.Hypervisors[i].Thumbprint = sims[i].Thumbprint
		topo.Hypervisors[i].Datastore = "LocalDS_0" // the simulator's; the file says datastore1
	}
	return topo, sims
}

func esxiEnv(t *testing.T) *layer.Env {
	t.Helper()
	st, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)
	opts := &layer.ESXiOptions{Getenv: esxitest.Getenv}
	t.Cleanup(func() { _ = opts.Close(context.Background()) })
	return &layer.Env{State: st, ESXi: opts}
}

func walk(ctx context.Context, t *testing.T, g *plan.Graph, apply bool) *plan.Result {
	t.Helper()
	res, err := plan.Walk(ctx, g, plan.Options{Apply: apply})
	require.NoError(t, err)
	return res
}

func TestESXiLayerThesis(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topo, sims := thesisOnSimulators(t)
	env := esxiEnv(t)
	g, err := layer.Plan(topo, env, "esxi")
	require.NoError(t, err)
	// 2 vSwitches; port groups: esxi1 underlay+site-a, esxi2
	// underlay+site-b+site-c; 11 VMs and 11 power-ons.
	require.Equal(t, 2+5+11+11, g.Len())

	// plan: everything would be created; nothing is.
	res := walk(ctx, t, g, false)
	assert.Equal(t, plan.Summary{Created: 18, Updated: 11}, res.Summary())
	c1, c2 := sims[0].Connect(t), sims[1].Connect(t)
	pgs, err := c1.PortGroups(ctx)
	require.NoError(t, err)
	for _, p := range pgs {
		assert.False(t, strings.HasPrefix(p.Name, "thesis-"), "plan created %s", p.Name)
	}

	// apply
	res = walk(ctx, t, g, true)
	assert.Equal(t, plan.Summary{Created: 18, Updated: 11}, res.Summary())

	wantPG := map[*esxi.Client]map[string]int{
		c1: {"thesis-underlay": 0, "thesis-site-a": 10},
		c2: {"thesis-underlay": 0, "thesis-site-b": 20, "thesis-site-c": 30},
	}
	for c, want := range wantPG {
		pgs, err := c.PortGroups(ctx)
		require.NoError(t, err)
		got := map[string]int{}
		for _, p := range pgs {
			if strings.HasPrefix(p.Name, "thesis-") {
				got[p.Name] = p.VLAN
				assert.Equal(t, "vSwitch-thesis", p.VSwitch)
			}
		}
		assert.Equal(t, want, got, c.Host())
	}
	for _, m := range topo.Machines() {
		c := map[string]*esxi.Client{"esxi1": c1, "esxi2": c2}[m.Site.Hypervisor]
		info, err := c.VMInfo(ctx, m.Name)
		require.NoError(t, err)
		require.NotNil(t, info, m.Name)
		site := "thesis-" + m.Site.Name
		want := []string{site}
		if m.IsRouter() {
			want = []string{"thesis-underlay", site}
		}
		var got []string
		for _, n := range info.NICs {
			got = append(got, n.PortGroup)
		}
		assert.Equal(t, want, got, "%s NIC backings", m.Name)
		assert.True(t, info.PowerOn, m.Name)
		assert.Equal(t, "thesis", info.Owner, m.Name)
		wantCPUs := map[string]int{"router": 1, "load-balancer": 1, "control-plane": 2, "worker": 2}[m.Role]
		assert.Equal(t, wantCPUs, info.CPUs, "%s sized by role", m.Name)
	}

	// Re-apply: nothing changes.
	res = walk(ctx, t, g, true)
	assert.Equal(t, plan.Summary{Unchanged: 29}, res.Summary())

	// Drift: site-c moved to VLAN 31 by hand; plan names it, apply fixes it.
	_, err = c2.EnsurePortGroup(ctx, esxi.PortGroup{Name: "thesis-site-c", VSwitch: "vSwitch-thesis", VLAN: 31})
	require.NoError(t, err)
	res = walk(ctx, t, g, false)
	assert.Equal(t, plan.Summary{Updated: 1, Unchanged: 28}, res.Summary())
	for _, s := range res.Steps {
		if s.Action == plan.Update {
			assert.Equal(t, layer.ESXiPortGroupID("esxi2", "thesis-site-c"), s.ID)
			assert.Contains(t, s.Reason, "VLAN 31, want 30")
		}
	}
	res = walk(ctx, t, g, true)
	assert.Equal(t, plan.Summary{Updated: 1, Unchanged: 28}, res.Summary())
	res = walk(ctx, t, g, false)
	assert.Equal(t, plan.Summary{Unchanged: 29}, res.Summary())

	// Something planetstage did not create, on the same host, survives destroy.
	_, err = c1.EnsurePortGroup(ctx, esxi.PortGroup{Name: "operator-pg", VSwitch: "vSwitch-thesis", VLAN: 99})
	require.NoError(t, err)
	_, err = c1.EnsureVM(ctx, esxi.VM{Name: "operator-vm", NICs: []esxi.NIC{{PortGroup: "thesis-site-a"}}})
	require.NoError(t, err)

	dg, err := layer.DestroyPlan(topo, env, "esxi")
	require.NoError(t, err)
	res = walk(ctx, t, dg, true)
	// 11 VMs and 5 port groups go; esxi1's vSwitch stays (it carries
	// operator-pg), esxi2's goes.
	assert.Equal(t, plan.Summary{Deleted: 17, Unchanged: 1}, res.Summary())
	for _, m := range topo.Machines() {
		c := map[string]*esxi.Client{"esxi1": c1, "esxi2": c2}[m.Site.Hypervisor]
		info, err := c.VMInfo(ctx, m.Name)
		require.NoError(t, err)
		assert.Nil(t, info, m.Name)
	}
	info, err := c1.VMInfo(ctx, "operator-vm")
	require.NoError(t, err)
	assert.NotNil(t, info, "operator-vm must survive")
	pgs, err = c1.PortGroups(ctx)
	require.NoError(t, err)
	var names []string
	for _, p := range pgs {
		names = append(names, p.Name)
	}
	assert.Contains(t, names, "operator-pg")
	assert.NotContains(t, names, "thesis-site-a")

	res = walk(ctx, t, dg, true)
	assert.Equal(t, plan.Summary{Unchanged: 18}, res.Summary(), "second destroy has nothing to do")
}

func TestESXiLayerSizing(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topo, sims := thesisOnSimulators(t)
	topo.Defaults = &topology.Defaults{VMs: map[string]topology.VM{"worker": {CPUs: 3, MemoryMB: 3072}}}
	topo.Sites[1].Hosts[0].VM = &topology.VM{MemoryMB: 8192} // node01
	g, err := layer.Plan(topo, esxiEnv(t), "esxi")
	require.NoError(t, err)
	walk(ctx, t, g, true)
	c2 := sims[1].Connect(t)
	for name, want := range map[string][2]int{"node01": {3, 8192}, "node02": {3, 3072}, "vyos02": {1, 1024}} {
		info, err := c2.VMInfo(ctx, name)
		require.NoError(t, err)
		require.NotNil(t, info, name)
		assert.Equal(t, want, [2]int{info.CPUs, info.MemoryMB}, name)
	}

	topo.Sites[0].Hosts[0].VM = &topology.VM{Image: "ubuntu:24.04"}
	_, err = layer.Plan(topo, esxiEnv(t), "esxi")
	require.ErrorContains(t, err, `machine lb: image "ubuntu:24.04": on ESXi an image is an .ova or .ovf file`)
}

// TestESXiLayerUnreachable: with no hypervisor reachable, plan says so and
// plans creation; apply fails naming the hypervisor.
func TestESXiLayerUnreachable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topo, _ := thesisOnSimulators(t)
	for i := range topo.Hypervisors {
		topo.Hypervisors[i].URL = "https://127.0.0.1:1/sdk" // nothing listens on port 1
	}
	env := esxiEnv(t)
	g, err := layer.Plan(topo, env, "esxi")
	require.NoError(t, err)
	res := walk(ctx, t, g, false)
	assert.Equal(t, plan.Summary{Created: 18, Updated: 11}, res.Summary())
	for _, s := range res.Steps {
		assert.Contains(t, s.Reason, "unreachable", s.ID)
	}
	res, err = plan.Walk(ctx, g, plan.Options{Apply: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "hypervisor esxi1")
	assert.Equal(t, 2, res.Summary().Failed, "the two vSwitch steps fail")
	assert.Equal(t, 27, res.Summary().Skipped, "everything after them is skipped")
}

// TestESXiLayerWhatTheFileSays: the file's vSwitch name and credential
// variables are used; an uplink the host lacks and a datastore it lacks
// fail the plan's inspect, naming the field, before anything is created.
func TestESXiLayerWhatTheFileSays(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topo, sims := thesisOnSimulators(t)
	for i := range topo.Hypervisors {
		topo.Hypervisors[i].VSwitch = "vSwitch-planet"
		topo.Hypervisors[i].Credentials = &topology.Credentials{UsernameEnv: "ESXI_USER", PasswordEnv: "ESXI_PASSWORD"}
	}
	st, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)
	// Only the file's variables are set: GOVC_USERNAME is not.
	vars := map[string]string{"ESXI_USER": esxitest.Username, "ESXI_PASSWORD": esxitest.Password}
	opts := &layer.ESXiOptions{Getenv: func(k string) string { return vars[k] }}
	t.Cleanup(func() { _ = opts.Close(context.Background()) })
	env := &layer.Env{State: st, ESXi: opts}

	g, err := layer.Plan(topo, env, layer.Machines)
	require.NoError(t, err)
	res := walk(ctx, t, g, true)
	assert.Zero(t, res.Summary().Failed)
	pgs, err := sims[0].Connect(t).PortGroups(ctx)
	require.NoError(t, err)
	assert.Contains(t, pgs, esxi.PortGroup{Name: "thesis-site-a", VSwitch: "vSwitch-planet", VLAN: 10})

	check := func(mutate func(*topology.Hypervisor), want string) {
		t.Helper()
		bad := topo.Clone()
		bad.Name = "thesis2" // objects of its own, so that it would create
		mutate(&bad.Hypervisors[0])
		env := &layer.Env{State: st, ESXi: &layer.ESXiOptions{Getenv: func(k string) string { return vars[k] }}}
		defer env.ESXi.Close(ctx)
		g, err := layer.Plan(bad, env, layer.Machines)
		require.NoError(t, err)
		_, err = plan.Walk(ctx, g, plan.Options{})
		assert.ErrorContains(t, err, want, "the plan says it")
		_, err = plan.Walk(ctx, g, plan.Options{Apply: true})
		assert.ErrorContains(t, err, want, "and so does the apply")
		pgs, err := sims[0].Connect(t).PortGroups(ctx)
		require.NoError(t, err)
		for _, p := range pgs {
			assert.NotEqual(t, "thesis2-site-a", p.Name, "nothing was made on esxi1")
		}
	}
	check(func(h *topology.Hypervisor) { h.Uplinks = []string{"vmnic7"} },
		"hypervisor esxi1 uplinks: esxi "+strings.TrimPrefix(strings.TrimSuffix(sims[0].URL, "/sdk"), "https://")+`: vswitch "vSwitch-planet": inspect: uplink vmnic7 is not a physical NIC of this host (it has vmnic0, vmnic1)`)
	check(func(h *topology.Hypervisor) { h.Datastore = "datastore9" }, "hypervisor esxi1 datastore:")
	check(func(h *topology.Hypervisor) { h.Credentials.UsernameEnv = "NOBODY" }, "hypervisor esxi1: credentials.usernameEnv: $NOBODY is empty")
}

// TestESXiLayerBootstrap: every new VM but a VyOS router gets user-data
// (read back here with govmomi, not through package esxi) that authorizes
// the ssh section's key and installs a host key made in the state, and
// that key is pinned in the state's known_hosts, which the SSH pool
// trusts, before the VM boots. The user-data passes cloud-init's own
// schema check where cloud-init is installed.
func TestESXiLayerBootstrap(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	topo, sims := thesisOnSimulators(t)
	env := esxiEnv(t)
	g, err := layer.Plan(topo, env, layer.Machines)
	require.NoError(t, err)
	walk(ctx, t, g, true)

	pub, err := os.ReadFile(topo.SSH.IdentityFile + ".pub")
	require.NoError(t, err)
	pinsPath, err := env.State.Path(layer.PinnedKnownHostsFile)
	require.NoError(t, err)
	pins, err := knownhosts.New(pinsPath)
	require.NoError(t, err)
	vim := sims[0].Connect(t).Vim()
	for _, name := range []string{"lb", "master01"} { // esxi1's hosts
		vm, err := find.NewFinder(vim).VirtualMachine(ctx, name)
		require.NoError(t, err)
		var o mo.VirtualMachine
		require.NoError(t, vm.Properties(ctx, vm.Reference(), []string{"config.extraConfig"}, &o))
		extra := map[string]string{}
		for _, opt := range o.Config.ExtraConfig {
			if v := opt.GetOptionValue(); v != nil {
				extra[v.Key], _ = v.Value.(string)
			}
		}
		assert.Equal(t, "base64", extra["guestinfo.userdata.encoding"], name)
		ud, err := base64.StdEncoding.DecodeString(extra["guestinfo.userdata"])
		require.NoError(t, err, name)
		assert.Contains(t, string(ud), strings.TrimSpace(string(pub)), "%s authorizes the ssh section's key", name)
		assert.Contains(t, string(ud), "BEGIN OPENSSH PRIVATE KEY", "%s gets its host key", name)

		// The pinned key is the one in the user-data.
		var conf struct {
			SSHKeys map[string]string `json:"ssh_keys"`
		}
		require.NoError(t, yaml.Unmarshal(ud, &conf))
		signer, err := ssh.ParsePrivateKey([]byte(conf.SSHKeys["ed25519_private"]))
		require.NoError(t, err, name)
		m, _ := topo.Machine(name)
		addr := &net.TCPAddr{IP: m.Address.AsSlice(), Port: 22}
		assert.NoError(t, pins(addr.String(), addr, signer.PublicKey()), "%s's host key is pinned under its address", name)

		if _, err := exec.LookPath("cloud-init"); err == nil {
			f := filepath.Join(t.TempDir(), "user-data")
			require.NoError(t, os.WriteFile(f, ud, 0o600))
			out, err := exec.CommandContext(ctx, "cloud-init", "schema", "--config-file", f).CombinedOutput()
			assert.NoError(t, err, "cloud-init schema: %s", out)
		} else {
			t.Log("cloud-init is not installed: the schema check is skipped (.ci/packages installs it)")
		}
	}
	// A VyOS router's user-data is configuration commands: its addresses,
	// SSH, the key for the vyos user (the file logs in as root, which VyOS
	// reserves). Its meta-data gives each card its address too, naming the
	// card by the MAC address the VM has.
	vm, err := find.NewFinder(vim).VirtualMachine(ctx, "vyos01")
	require.NoError(t, err)
	var o mo.VirtualMachine
	require.NoError(t, vm.Properties(ctx, vm.Reference(), []string{"config.extraConfig", "config.hardware.device"}, &o))
	var meta, ud []byte
	for _, opt := range o.Config.ExtraConfig {
		v := opt.GetOptionValue()
		switch v.Key {
		case "guestinfo.metadata":
			meta, err = base64.StdEncoding.DecodeString(v.Value.(string))
			require.NoError(t, err)
		case "guestinfo.userdata":
			ud, err = base64.StdEncoding.DecodeString(v.Value.(string))
			require.NoError(t, err)
		}
	}
	var cmds struct {
		Commands []string `json:"vyos_config_commands"`
	}
	require.NoError(t, yaml.Unmarshal(ud, &cmds), "%s", ud)
	key := strings.Fields(string(pub))
	assert.Contains(t, cmds.Commands, "set interfaces ethernet eth0 address 10.4.0.90/16")
	assert.Contains(t, cmds.Commands, "set system login user vyos authentication public-keys planetstage key '"+key[1]+"'")
	var netcfg struct {
		Network struct {
			Ethernets map[string]struct {
				Match     struct{ MACAddress string } `json:"match"`
				Addresses []string                    `json:"addresses"`
			} `json:"ethernets"`
		} `json:"network"`
	}
	require.NoError(t, yaml.Unmarshal(meta, &netcfg), "%s", meta)
	var macs []string
	for _, d := range object.VirtualDeviceList(o.Config.Hardware.Device).SelectByType((*types.VirtualEthernetCard)(nil)) {
		macs = append(macs, d.(types.BaseVirtualEthernetCard).GetVirtualEthernetCard().MacAddress)
	}
	eth := netcfg.Network.Ethernets
	assert.ElementsMatch(t, macs, []string{eth["wan"].Match.MACAddress, eth["site"].Match.MACAddress})
	assert.Equal(t, []string{"10.4.0.90/16"}, eth["wan"].Addresses)
	assert.Equal(t, []string{"192.168.10.1/24"}, eth["site"].Addresses)

	// A second apply changes nothing, and the pins are the same bytes.
	before, err := os.ReadFile(pinsPath)
	require.NoError(t, err)
	g, err = layer.Plan(topo, env, layer.Machines)
	require.NoError(t, err)
	res := walk(ctx, t, g, true)
	assert.Equal(t, plan.Summary{Unchanged: len(res.Steps)}, res.Summary())
	after, err := os.ReadFile(pinsPath)
	require.NoError(t, err)
	assert.Equal(t, before, after)

	// Without a readable key a plan still shows the VMs; creating one fails
	// naming the field.
	fresh, _ := thesisOnSimulators(t)
	fresh.SSH.IdentityFile = filepath.Join(t.TempDir(), "absent")
	g, err = layer.Plan(fresh, esxiEnv(t), layer.Machines)
	require.NoError(t, err)
	_, err = plan.Walk(ctx, g, plan.Options{Apply: true})
	assert.ErrorContains(t, err, "ssh.identityFile")
}

func TestESXiLayerRender(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../examples/thesis/thesis.yaml")
	require.NoError(t, err)
	topo, err := topology.Parse("thesis.yaml", data)
	require.NoError(t, err)
	arts, err := layer.Render(topo, esxiEnv(t), "vyos03", "esxi")
	require.NoError(t, err)
	require.Len(t, arts, 3)
	assert.Contains(t, arts[2].Content, "(none: ssh.identityFile:", "no key file here: said in the user-data's place")
	assert.Equal(t, "vm vyos03 on hypervisor esxi2 (guest debian10_64Guest)\ncpus: 1\nmemoryMB: 1024\ndiskGB: 8\n"+
		"nic0: vmxnet3 on port group thesis-underlay (VLAN 0, vSwitch vSwitch-thesis)\n"+
		"nic1: vmxnet3 on port group thesis-site-c (VLAN 30, vSwitch vSwitch-thesis)\n"+
		"extraConfig planetstage.topology: thesis\n", arts[0].Content)
	topo.SSH.IdentityFile = esxitest.Identity(t)
	arts, err = layer.Render(topo, esxiEnv(t), "master02", "esxi")
	require.NoError(t, err)
	require.Len(t, arts, 3)
	// The user-data: the key authorized (public: shown), the host key's
	// private half redacted.
	pub, err := os.ReadFile(topo.SSH.IdentityFile + ".pub")
	require.NoError(t, err)
	assert.Contains(t, arts[2].Content, strings.TrimSpace(string(pub)))
	assert.Contains(t, arts[2].Content, "ed25519_private: |\n    <redacted>\n  ed25519_public: ssh-ed25519 ")
	assert.NotContains(t, arts[2].Content, "PRIVATE KEY")
	assert.Equal(t, "instance-id: thesis-master02\nlocal-hostname: master02\nnetwork:\n  version: 2\n  ethernets:\n    site:\n"+
		"      match: {macaddress: \"00:50:56:20:8c:4b\"}\n      addresses: [192.168.10.102/24]\n      routes: [{to: default, via: 192.168.10.1}]\n", arts[1].Content)
}

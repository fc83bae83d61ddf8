package lab

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"os/exec"
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

	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
)

// simTopology: site a on a hypervisor (its machines are VMs), site b on
// machines that already exist.
func simTopology(name string) *topology.Topology {
	addr, pfx := netip.MustParseAddr, netip.MustParsePrefix
	t := &topology.Topology{
		APIVersion: topology.APIVersion, Kind: topology.Kind, Name: name,
		Hypervisors: []topology.Hypervisor{{Name: "esxi1", URL: "https://192.0.2.13/sdk"}},
		Underlay:    topology.Underlay{Prefix: pfx("10.25.0.0/16")},
		Sites: []topology.Site{
			{Name: "a", VLAN: 10, Prefix: pfx("172.25.10.0/24"), Hypervisor: "esxi1",
				Router: topology.Router{Name: "vyos01", Kind: topology.RouterVyOS, Version: "1.2", WAN: addr("10.25.0.90"), LAN: addr("172.25.10.1")},
				Hosts:  []topology.Host{{Name: "master01", Address: addr("172.25.10.101"), Role: topology.RoleControlPlane}}},
			{Name: "b", VLAN: 20, Prefix: pfx("172.25.20.0/24"),
				Router: topology.Router{Name: "gw2", Kind: topology.RouterLinux, WAN: addr("10.25.0.91"), LAN: addr("172.25.20.1")},
				Hosts:  []topology.Host{{Name: "node01", Address: addr("172.25.20.101"), Role: topology.RoleWorker}}},
		},
	}
	t.SetDefaults()
	return t
}

// renumber moves simTopology t to prefixes of its own, 10.N.0.0/16 and
// 172.N.{10,20}.0/24, so that its test runs next to the others.
func renumber(t *topology.Topology, n int) {
	addr := func(f string) netip.Addr { return netip.MustParseAddr(fmt.Sprintf(f, n)) }
	pfx := func(f string) netip.Prefix { return netip.MustParsePrefix(fmt.Sprintf(f, n)) }
	t.Underlay.Prefix = pfx("10.%d.0.0/16")
	for i := range t.Sites {
		lan := pfx(fmt.Sprintf("172.%%d.%d0.0/24", i+1))
		t.Sites[i].Prefix = lan
		t.Sites[i].Router.WAN, t.Sites[i].Router.LAN = addr(fmt.Sprintf("10.%%d.0.%d", 90+i)), lan.Addr().Next()
		t.Sites[i].Hosts[0].Address = addr(fmt.Sprintf("172.%%d.%d0.101", i+1))
	}
}

// TestVMsBecomeContainers powers VMs on in the simulated hypervisor with
// plain govmomi calls (standing in for the ESXi provider, which has its own
// tests) and checks that their machines come to life, and only then.
func TestVMsBecomeContainers(t *testing.T) {
	t.Parallel()
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	l, err := Up(ctx, simTopology("labtest-vm"), Options{StateDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, l.Down(context.Background())) })

	lt := l.Topology()
	require.NotNil(t, lt)
	assert.Equal(t, topology.RouterVyOS, lt.Sites[0].Router.Kind, "a VyOS router stays one: it runs in the stand-in")
	assert.Equal(t, l.KnownHostsFile(), lt.SSH.KnownHosts)
	assert.Contains(t, strings.Join(l.Notes(), "\n"), "router vyos01 (VyOS 1.2) runs in the VyOS stand-in, not VyOS")
	u, err := url.Parse(lt.Hypervisors[0].URL)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", u.Hostname(), "the hypervisor is the in-process simulator")
	assert.Len(t, strings.Split(lt.Hypervisors[0].Thumbprint, ":"), 32)

	// The command line to reach a host as the hardware would be reached,
	// through its router (ProxyCommand), works as written.
	argv, err := layer.SSHCommand(lt, "node01", "hostname")
	require.NoError(t, err)
	assert.Contains(t, strings.Join(argv, " "), "ProxyCommand=")
	if _, err := exec.LookPath(argv[0]); err == nil {
		hostname, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
		require.NoError(t, err, "%v: %s", argv, hostname)
		assert.Equal(t, "node01", strings.TrimSpace(string(hostname)))
	}

	// Before the VMs exist only site b's machines run.
	m, err := l.Matrix(ctx)
	require.NoError(t, err)
	p, _ := m.Pair("gw2", "node01")
	assert.True(t, p.Reachable)
	p, _ = m.Pair("node01", "gw2")
	assert.True(t, p.Reachable)
	for _, name := range []string{"vyos01", "master01"} {
		exists, err := l.containerExists(ctx, name)
		require.NoError(t, err)
		assert.False(t, exists, name)
	}

	// Create and power on the VMs over the SDK, with a pinned certificate.
	sc := soap.NewClient(u, false)
	sc.SetThumbprint(u.Host, lt.Hypervisors[0].Thumbprint)
	c, err := vim25.NewClient(ctx, sc)
	require.NoError(t, err)
	require.NoError(t, session.NewManager(c).Login(ctx, url.UserPassword(l.Getenv("GOVC_USERNAME"), l.Getenv("GOVC_PASSWORD"))))
	finder := find.NewFinder(c)
	folder, err := finder.DefaultFolder(ctx)
	require.NoError(t, err)
	pool, err := finder.DefaultResourcePool(ctx)
	require.NoError(t, err)
	for _, name := range []string{"vyos01", "master01"} {
		task, err := folder.CreateVM(ctx, types.VirtualMachineConfigSpec{Name: name, GuestId: "otherGuest64",
			Files: &types.VirtualMachineFileInfo{VmPathName: "[" + l.Getenv("GOVC_DATASTORE") + "]"}}, pool, nil)
		require.NoError(t, err)
		require.NoError(t, task.Wait(ctx))
		if name == "master01" {
			continue // created, not powered on
		}
		vm, err := finder.VirtualMachine(ctx, name)
		require.NoError(t, err)
		task, err = vm.PowerOn(ctx)
		require.NoError(t, err)
		require.NoError(t, task.Wait(ctx))
	}
	require.NoError(t, l.syncVMs(ctx))
	exists, err := l.containerExists(ctx, "vyos01")
	require.NoError(t, err)
	assert.True(t, exists, "a powered-on VM is a running machine")
	exists, err = l.containerExists(ctx, "master01")
	require.NoError(t, err)
	assert.False(t, exists, "a VM that is off has no machine")
	// Dial goes the hardware's way: routers at their WAN address, hosts
	// through their router.
	for _, name := range []string{"vyos01", "node01"} {
		r, err := l.Dial(ctx, name)
		require.NoError(t, err)
		out, err := remote.Output(ctx, r, "hostname")
		require.NoError(t, err)
		assert.Equal(t, name, strings.TrimSpace(out))
	}
	_, err = l.Dial(ctx, "master01")
	assert.ErrorContains(t, err, "its VM is not powered on")

	m, err = l.Matrix(ctx)
	require.NoError(t, err)
	p, _ = m.Pair("vyos01", "node01")
	assert.False(t, p.Reachable, "no tunnel yet")
	p, _ = m.Pair("gw2", "vyos01")
	assert.False(t, p.Reachable, "a LAN address of another site needs a tunnel")

	// The lab grows by a host on each site: site b's runs at once, site
	// a's when its VM is on. A change that is not an added host is refused
	// and changes nothing.
	grown := simTopology("labtest-vm")
	grown.Sites[0].Hosts = append(grown.Sites[0].Hosts, topology.Host{Name: "master02", Address: netip.MustParseAddr("172.25.10.102"), Role: topology.RoleControlPlane})
	grown.Sites[1].Hosts = append(grown.Sites[1].Hosts, topology.Host{Name: "node02", Address: netip.MustParseAddr("172.25.20.102"), Role: topology.RoleWorker})
	moved := grown.Clone()
	moved.Sites[1].Hosts[0].Address = netip.MustParseAddr("172.25.20.99")
	require.ErrorContains(t, l.Grow(ctx, moved), `machine "node01": site, address or role changed`)
	assert.Len(t, l.Machines(), 4, "a refused Grow adds nothing")

	require.NoError(t, l.Grow(ctx, grown))
	assert.Len(t, l.Machines(), 6)
	assert.Len(t, l.Topology().HostsWithRole(topology.RoleWorker), 2, "Topology() is the grown one")
	r, err := l.Dial(ctx, "node02")
	require.NoError(t, err, "a new host is reached like the others, its host key known")
	out, err := remote.Output(ctx, r, "hostname")
	require.NoError(t, err)
	assert.Equal(t, "node02", strings.TrimSpace(out))
	_, err = l.Dial(ctx, "master02")
	assert.ErrorContains(t, err, "its VM is not powered on")
}

func TestRenumber(t *testing.T) {
	t.Parallel()
	topo := simTopology("renumber")
	renumber(topo, 28)
	require.NoError(t, topo.Validate())
	assert.Equal(t, "10.28.0.0/16", topo.Underlay.Prefix.String())
	assert.Equal(t, "172.28.20.0/24", topo.Sites[1].Prefix.String())
	assert.Equal(t, "10.28.0.91", topo.Sites[1].Router.WAN.String())
	assert.Equal(t, "172.28.20.1", topo.Sites[1].Router.LAN.String())
	assert.Equal(t, "172.28.10.101", topo.Sites[0].Hosts[0].Address.String())
}

package layer

import (
	"context"
	"fmt"
	"io/fs"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lbTopology is the thesis's site-a (lb and three masters) plus a worker
// site, with masters as given.
func lbTopology(masters ...string) *topology.Topology {
	hosts := []topology.Host{{Name: "lb", Address: netip.MustParseAddr("192.168.10.253"), Role: topology.RoleLoadBalancer}}
	for i, m := range masters {
		hosts = append(hosts, topology.Host{Name: m, Address: netip.AddrFrom4([4]byte{192, 168, 10, byte(101 + i)}), Role: topology.RoleControlPlane})
	}
	t := &topology.Topology{
		Name:        "lbtest",
		Hypervisors: []topology.Hypervisor{{Name: "esxi1", URL: "https://10.4.0.13/sdk"}},
		Underlay:    topology.Underlay{Prefix: netip.MustParsePrefix("10.4.0.0/16")},
		Sites: []topology.Site{{
			Name: "site-a", VLAN: 10, Prefix: netip.MustParsePrefix("192.168.10.0/24"), Hypervisor: "esxi1",
			Router: topology.Router{Name: "vyos01", Kind: topology.RouterVyOS, Version: "1.2", WAN: netip.MustParseAddr("10.4.0.90"), LAN: netip.MustParseAddr("192.168.10.1")},
			Hosts:  hosts,
		}, {
			Name: "site-b", VLAN: 20, Prefix: netip.MustParsePrefix("192.168.20.0/24"),
			Router: topology.Router{Name: "vyos02", Kind: topology.RouterVyOS, Version: "1.2", WAN: netip.MustParseAddr("10.4.0.91"), LAN: netip.MustParseAddr("192.168.20.1")},
			Hosts:  []topology.Host{{Name: "node01", Address: netip.MustParseAddr("192.168.20.101"), Role: topology.RoleWorker}},
		}},
		VPN:     &topology.VPN{Mode: topology.VPNMesh, Transit: netip.MustParsePrefix("10.255.0.0/16")},
		Cluster: &topology.Cluster{Kubernetes: "v1.37.2", PodSubnet: netip.MustParsePrefix("10.244.0.0/16"), ServiceSubnet: netip.MustParsePrefix("10.96.0.0/12"), APIPort: 6443},
	}
	t.SetDefaults()
	return t
}

func TestLBStepTargetsLoadBalancerBeforeCluster(t *testing.T) {
	t.Parallel()
	top := lbTopology("master01", "master02", "master03")
	require.NoError(t, top.Validate())
	nodes, err := lbSteps(top, &Env{})
	require.NoError(t, err)
	require.Len(t, nodes, 1)
	n := nodes[0]
	assert.Equal(t, "lb/haproxy/lb", n.ID)
	assert.Equal(t, topology.LoadBalancerID("lb"), n.ID, "the ID the cluster layer depends on")
	assert.Equal(t, "haproxy on lb (3 control planes at :6443)", n.Target)
	assert.ElementsMatch(t, []string{topology.MachineUpID("lb"), topology.RouterID("vyos01")}, n.Deps)

	g, err := Plan(top, &Env{State: lbTestState(t)}, "lb")
	require.NoError(t, err)
	got, ok := g.Node("lb/haproxy/lb")
	require.True(t, ok)
	assert.Equal(t, "lb", got.Layer)
}

func TestLBNoStepsWithoutClusterOrLoadBalancer(t *testing.T) {
	t.Parallel()
	noCluster := lbTopology("master01")
	noCluster.Cluster = nil
	single := lbTopology("master01")
	single.Sites[0].Hosts = single.Sites[0].Hosts[1:] // one master, no lb
	for name, top := range map[string]*topology.Topology{"no cluster": noCluster, "single master": single} {
		nodes, err := lbSteps(top, &Env{})
		require.NoError(t, err, name)
		assert.Empty(t, nodes, name)
	}
}

func TestLBRender(t *testing.T) {
	t.Parallel()
	top := lbTopology("master01", "master02", "master03")
	arts, err := Render(top, &Env{}, "lb", "lb")
	require.NoError(t, err)
	require.Len(t, arts, 1)
	a := arts[0]
	assert.Equal(t, "/etc/haproxy/haproxy.cfg", a.Title)
	assert.Equal(t, "lb", a.Machine)
	for _, want := range []string{
		"bind 0.0.0.0:6443",
		"server master01 192.168.10.101:6443 check",
		"server master02 192.168.10.102:6443 check",
		"server master03 192.168.10.103:6443 check",
		"http-check send meth GET uri /readyz",
		"option redispatch 1",
	} {
		assert.Contains(t, a.Content, want)
	}
	assert.NotContains(t, a.Content, "2379", "etcd is not balanced")

	arts, err = Render(top, &Env{}, "master01", "lb")
	require.NoError(t, err)
	assert.Empty(t, arts, "nothing for a control plane")
}

// TestLBStepFollowsControlPlanes applies the step to a recording stand-in
// for the lb host, then checks that adding a master makes Inspect report an
// update naming it and that re-applying converges.
func TestLBStepFollowsControlPlanes(t *testing.T) {
	t.Parallel()
	host := newFakeLBHost()
	env := &Env{Dial: func(_ context.Context, machine string) (remote.Runner, error) {
		if machine != "lb" {
			return nil, fmt.Errorf("dialled %q, want lb", machine)
		}
		return host, nil
	}}
	ctx := context.Background()
	step := func(masters ...string) plan.Step {
		nodes, err := lbSteps(lbTopology(masters...), env)
		require.NoError(t, err)
		require.Len(t, nodes, 1)
		return nodes[0].Step
	}

	three := step("master01", "master02", "master03")
	c, err := three.Inspect(ctx)
	require.NoError(t, err)
	assert.Equal(t, plan.Create, c.Action, c.Reason)
	require.NoError(t, three.Apply(ctx, c))
	c, err = three.Inspect(ctx)
	require.NoError(t, err)
	assert.Equal(t, plan.NoOp, c.Action, c.Reason)

	four := step("master01", "master02", "master03", "master04")
	c, err = four.Inspect(ctx)
	require.NoError(t, err)
	assert.Equal(t, plan.Update, c.Action)
	assert.Contains(t, c.Reason, "+server master04 192.168.10.104:6443 check")
	require.NoError(t, four.Apply(ctx, c))
	assert.Contains(t, host.file("/etc/haproxy/haproxy.cfg"), "server master04")
	c, err = four.Inspect(ctx)
	require.NoError(t, err)
	assert.Equal(t, plan.NoOp, c.Action, c.Reason)
}

// fakeLBHost is a recording stand-in for the lb machine: haproxy installed,
// no systemd, every command succeeds, and the config swap is mimicked on an
// in-memory file system. Real HAProxy is exercised in package haproxy.
type fakeLBHost struct {
	mu    sync.Mutex
	files map[string][]byte
}

func newFakeLBHost() *fakeLBHost { return &fakeLBHost{files: map[string][]byte{}} }

func (h *fakeLBHost) Host() string { return "lb" }

func (h *fakeLBHost) Run(_ context.Context, c remote.Cmd) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if strings.Contains(c.Command, "test -d /run/systemd/system") {
		return &remote.ExitError{Host: "lb", Command: c.Command, Status: 1}
	}
	const path = "/etc/haproxy/haproxy.cfg"
	if strings.Contains(c.Command, "mv -f "+path+".planetstage-new "+path) {
		h.files[path] = h.files[path+".planetstage-new"]
		delete(h.files, path+".planetstage-new")
	}
	return nil
}

func (h *fakeLBHost) WriteFile(_ context.Context, path string, data []byte, _ fs.FileMode) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.files[path] = append([]byte(nil), data...)
	return nil
}

func (h *fakeLBHost) ReadFile(_ context.Context, path string) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d, ok := h.files[path]
	if !ok {
		return nil, fmt.Errorf("read %s: %w", path, fs.ErrNotExist)
	}
	return d, nil
}

func (h *fakeLBHost) file(path string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return string(h.files[path])
}

func lbTestState(t *testing.T) *topology.State {
	t.Helper()
	st, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)
	return st
}

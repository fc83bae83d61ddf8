package layer

import (
	"context"
	"io/fs"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/tunnel"
)

// emptyMachine is a fake remote.Runner for a machine with nothing on it:
// files are missing and commands print nothing. It records commands and
// refuses writes, so inspecting through it proves nothing is changed.
type emptyMachine struct {
	name   string
	mu     sync.Mutex
	cmds   []string
	writes int
}

func (e *emptyMachine) Run(_ context.Context, c remote.Cmd) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cmds = append(e.cmds, c.Command)
	if out, ok := remote.AnswerBatch(c.Command, nil); ok && c.Stdout != nil {
		_, _ = c.Stdout.Write([]byte(out)) // a router's state read at once: nothing there
	}
	return nil
}
func (e *emptyMachine) WriteFile(context.Context, string, []byte, fs.FileMode) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.writes++
	return fs.ErrPermission
}
func (e *emptyMachine) ReadFile(context.Context, string) ([]byte, error) { return nil, fs.ErrNotExist }
func (e *emptyMachine) Host() string                                     { return e.name }

func routersTopology(kinds ...string) *topology.Topology {
	t := &topology.Topology{Name: "lab", Underlay: topology.Underlay{Prefix: netip.MustParsePrefix("10.4.0.0/16")},
		VPN: &topology.VPN{Mode: topology.VPNMesh, Transit: netip.MustParsePrefix("10.255.0.0/16")}}
	for i, k := range kinds {
		lan := netip.AddrFrom4([4]byte{192, 168, byte(10 * (i + 1)), 1})
		r := topology.Router{Name: "r" + string(rune('1'+i)), Kind: k, WAN: netip.AddrFrom4([4]byte{10, 4, 0, byte(90 + i)}), LAN: lan}
		if k == topology.RouterVyOS {
			r.Version = "1.4"
		}
		t.Sites = append(t.Sites, topology.Site{Name: "site-" + string(rune('a'+i)), VLAN: 10 * (i + 1), Prefix: netip.PrefixFrom(lan, 24).Masked(), Router: r,
			Hosts: []topology.Host{{Name: "h" + string(rune('1'+i)), Address: lan.Next(), Role: topology.RoleWorker}}})
	}
	t.SetDefaults()
	return t
}

func TestRouterStepsInspectWithoutChanging(t *testing.T) {
	t.Parallel()
	topo := routersTopology(topology.RouterLinux, topology.RouterVyOS, topology.RouterLinux)
	st, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)
	machines := map[string]*emptyMachine{}
	var mu sync.Mutex
	env := &Env{State: st, Dial: func(_ context.Context, name string) (remote.Runner, error) {
		mu.Lock()
		defer mu.Unlock()
		if machines[name] == nil {
			machines[name] = &emptyMachine{name: name}
		}
		return machines[name], nil
	}}
	nodes, err := routerSteps(topo, env)
	require.NoError(t, err)
	require.Len(t, nodes, 3+3, "a step per router, then a probe per tunnel")
	for i, n := range nodes[:3] {
		assert.Equal(t, topology.RouterID(topo.Sites[i].Router.Name), n.ID)
		assert.Equal(t, []string{topology.MachineUpID(topo.Sites[i].Router.Name)}, n.Deps,
			"no hypervisor: the router exists already, and the machines layer checks that it answers")
		c, err := n.Step.Inspect(t.Context())
		require.NoError(t, err)
		assert.Equal(t, plan.Create, c.Action, n.ID)
	}
	assert.Contains(t, nodes[0].Target, "Linux")
	assert.Contains(t, nodes[1].Target, "VyOS 1.4")
	c, _ := nodes[0].Step.Inspect(t.Context())
	assert.Contains(t, c.Reason, "start openvpn vtun0 to r2")
	c, _ = nodes[1].Step.Inspect(t.Context())
	assert.Contains(t, c.Reason, "set system host-name r2")
	for name, m := range machines {
		assert.Zero(t, m.writes, name)
		for _, cmd := range m.cmds {
			assert.NotContains(t, cmd, "ip route replace", name)
		}
	}
	// a VyOS router is read with vbash
	assert.Contains(t, strings.Join(machines["r2"].cmds, "\n"), "/bin/vbash -s")
}

func TestRouterStepsDependOnTheirMachine(t *testing.T) {
	t.Parallel()
	topo := routersTopology(topology.RouterVyOS, topology.RouterVyOS)
	topo.Hypervisors = []topology.Hypervisor{{Name: "esxi1", URL: "https://10.4.0.13/sdk"}}
	topo.Sites[0].Hypervisor = "esxi1"
	st, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)
	nodes, err := routerSteps(topo, &Env{State: st})
	require.NoError(t, err)
	assert.Equal(t, []string{topology.MachineUpID("r1")}, nodes[0].Deps)
	assert.Equal(t, []string{topology.MachineUpID("r2")}, nodes[1].Deps)

	// Both up steps exist, from different providers: r1's VM is powered on
	// by ESXi, r2 already exists and is only checked.
	resolved, err := topo.Resolve()
	require.NoError(t, err)
	machines, err := machineSteps(resolved, &Env{State: st})
	require.NoError(t, err)
	targets := map[string]string{}
	for _, n := range machines {
		targets[n.ID] = n.Target
	}
	assert.Contains(t, targets[topology.MachineUpID("r1")], "power of vm r1 on esxi1")
	assert.Contains(t, targets[topology.MachineUpID("r2")], "existing machine r2")
}

func TestRenderRouters(t *testing.T) {
	t.Parallel()
	topo := routersTopology(topology.RouterVyOS, topology.RouterLinux)
	st, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)
	for _, show := range []bool{false, true} {
		env := &Env{State: st, ShowSecrets: show}
		vy, err := Render(topo, env, "r1")
		require.NoError(t, err)
		require.Len(t, vy, 1)
		assert.Contains(t, vy[0].Content, "set protocols static route 192.168.20.0/24 interface vtun0")
		assert.Contains(t, vy[0].Content, "set interfaces openvpn vtun0 tls role passive")
		lx, err := Render(topo, env, "r2")
		require.NoError(t, err)
		var all strings.Builder
		for _, a := range append(vy, lx...) {
			all.WriteString(a.Title + "\n" + a.Content)
		}
		assert.Contains(t, all.String(), "tls-client")
		assert.Contains(t, all.String(), "ip route replace 192.168.10.0/24 via 10.255.0.1 dev vtun0 onlink")
		assert.Contains(t, all.String(), openvpn.DefaultBootScript+" (mode 0755)", "the Linux router's boot script is rendered")
		if show {
			assert.Contains(t, all.String(), "PRIVATE KEY")
		} else {
			assert.NotContains(t, all.String(), "PRIVATE KEY")
			assert.NotContains(t, all.String(), "private key '"+"MI", "VyOS pki key redacted")
			assert.Contains(t, all.String(), secret.Redacted)
		}
	}
	h, err := Render(topo, &Env{State: st}, "h2")
	require.NoError(t, err)
	require.Len(t, h, 1)
	assert.Contains(t, h[0].Content, "ip route replace 192.168.10.0/24 via 192.168.20.1")
}

// Rendering shows what an apply would do and writes nothing: a state
// directory without keys stays empty, and one with keys keeps them.
func TestRenderWritesNoKeys(t *testing.T) {
	t.Parallel()
	topo := routersTopology(topology.RouterVyOS, topology.RouterLinux)
	dir := t.TempDir()
	st, err := topology.OpenState(dir)
	require.NoError(t, err)
	for _, m := range []string{"r1", "r2", "h2"} {
		_, err := Render(topo, &Env{State: st, ShowSecrets: true}, m)
		require.NoError(t, err, m)
	}
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			files = append(files, p)
		}
		return err
	}))
	assert.Empty(t, files, "render wrote into the state")

	// With the keys an apply made, render shows those keys.
	resolved, err := topo.Resolve()
	require.NoError(t, err)
	spec, err := TunnelSpec(resolved)
	require.NoError(t, err)
	tm, err := tunnel.New(spec)
	require.NoError(t, err)
	om, err := openvpn.New(tm, openvpn.Options{Auth: openvpn.Auth(resolved.VPN.Auth)})
	require.NoError(t, err)
	keys, err := openvpn.LoadKeys(st, om)
	require.NoError(t, err)
	arts, err := Render(topo, &Env{State: st, ShowSecrets: true}, "r2")
	require.NoError(t, err)
	var all strings.Builder
	for _, a := range arts {
		all.WriteString(a.Content)
	}
	assert.Contains(t, all.String(), strings.TrimSpace(string(keys.Certs["r2"].KeyPEM)))
}

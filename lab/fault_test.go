package lab_test

import (
	"context"
	"net/netip"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/reach"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
)

// faultTopology: three sites on machines that exist (no hypervisor), Linux
// routers in a mesh, a load balancer in site a in front of one master.
func faultTopology() *topology.Topology {
	addr, pfx := netip.MustParseAddr, netip.MustParsePrefix
	site := func(name string, n int, router string, hosts ...topology.Host) topology.Site {
		p := pfx("172.26." + strconv.Itoa(n*10) + ".0/24")
		return topology.Site{Name: name, VLAN: n * 10, Prefix: p,
			Router: topology.Router{Name: router, Kind: topology.RouterLinux, WAN: addr("10.26.0." + strconv.Itoa(89+n)), LAN: p.Addr().Next()},
			Hosts:  hosts}
	}
	host := func(name, a, role string) topology.Host {
		return topology.Host{Name: name, Address: addr(a), Role: role}
	}
	t := &topology.Topology{
		APIVersion: topology.APIVersion, Kind: topology.Kind, Name: "labtest-fault",
		Underlay: topology.Underlay{Prefix: pfx("10.26.0.0/16")},
		Sites: []topology.Site{
			site("a", 1, "r1", host("lb", "172.26.10.253", topology.RoleLoadBalancer), host("m1", "172.26.10.101", topology.RoleControlPlane)),
			site("b", 2, "r2", host("w1", "172.26.20.101", topology.RoleWorker)),
			site("c", 3, "r3", host("w2", "172.26.30.101", topology.RoleWorker)),
		},
		VPN: &topology.VPN{Mode: topology.VPNMesh, Auth: topology.VPNAuthTLS, Transit: pfx("10.255.0.0/16"), Port: 1194},
		Cluster: &topology.Cluster{Kubernetes: "v1.37.2", PodSubnet: pfx("10.244.0.0/16"),
			ServiceSubnet: pfx("10.96.0.0/12"), APIPort: 6443},
	}
	t.SetDefaults()
	return t
}

// TestFaults is the lab's reliability story with the real routers layer
// (OpenVPN, ip route) over real SSH: a router killed in the middle of an
// apply, a re-run that converges, a second apply that changes nothing, a
// stopped router that breaks exactly its pairs, and its restart.
func TestFaults(t *testing.T) {
	if !slices.Contains(layer.Names(), "routers") {
		t.Skip("the routers layer is not in this build")
	}
	if err := exec.Command("docker", "version").Run(); err != nil {
		t.Skipf("needs a running Docker engine: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	l, err := lab.Up(ctx, faultTopology(), lab.Options{StateDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, l.Down(context.Background())) })
	state, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)
	env := l.Env(state)
	layers := []string{"routers"}
	if slices.Contains(layer.Names(), "lb") {
		layers = append(layers, "lb")
	}
	apply := func(hook plan.Hook) (*plan.Result, error) {
		g, err := layer.Plan(l.Topology(), env, layers...)
		require.NoError(t, err)
		return plan.Walk(ctx, g, plan.Options{Apply: true, Hook: hook})
	}
	site := map[string]string{}
	for _, m := range l.Machines() {
		site[m.Name] = m.Site
	}

	// 1. r1 dies as its step starts: that step fails, what depends on it is
	// skipped, the other routers are configured.
	ok := t.Run("router killed mid-apply", func(t *testing.T) {
		killed := false
		start := time.Now()
		res, err := apply(plan.HookFunc(func(e plan.Event) {
			if e.Kind == plan.Started && e.Step.ID == topology.RouterID("r1") && !killed {
				killed = true
				assert.NoError(t, l.Kill(ctx, "r1")) // the walk's goroutine: no FailNow
			}
		}))
		require.Error(t, err)
		t.Logf("apply with r1 killed: %s", time.Since(start).Round(time.Millisecond))
		outcome := map[string]plan.Outcome{}
		for _, s := range res.Steps {
			outcome[s.ID] = s.Outcome
		}
		assert.Equal(t, plan.Failed, outcome[topology.RouterID("r1")])
		assert.Equal(t, plan.Done, outcome[topology.RouterID("r2")])
		assert.Equal(t, plan.Done, outcome[topology.RouterID("r3")])
		if slices.Contains(layers, "lb") {
			assert.Equal(t, plan.Skipped, outcome[topology.LoadBalancerID("lb")], "the load balancer waits for its site's router")
		}
	})
	if !ok {
		return
	}

	// 2. The router comes back; the same apply converges, and a second
	// apply of the unchanged testbed changes nothing.
	ok = t.Run("re-run converges, then changes nothing", func(t *testing.T) {
		require.NoError(t, l.Start(ctx, "r1"))
		start := time.Now()
		_, err := apply(nil)
		require.NoError(t, err)
		firstApply := time.Since(start)
		wctx, wcancel := context.WithTimeout(ctx, time.Minute)
		m, err := l.MatrixUntil(wctx, func(m reach.Matrix) bool { return len(m.Unreachable()) == 0 })
		wcancel()
		require.NoError(t, err)
		assert.Empty(t, m.Unreachable(), "after the re-run:\n%s", m.Table())

		start = time.Now()
		res, err := apply(nil)
		require.NoError(t, err)
		for _, s := range res.Steps {
			assert.Equal(t, plan.NoOp, s.Action, "%s: %s", s.ID, s.Reason)
		}
		t.Logf("apply %s, no-op re-apply %s", firstApply.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	})
	if !ok {
		return
	}

	// 3. A stopped router breaks exactly the pairs that need it: those from
	// or to it, and those between its site and the others.
	ok = t.Run("stopped router breaks exactly its pairs", func(t *testing.T) {
		require.NoError(t, l.Stop(ctx, "r2"))
		m, err := l.Matrix(ctx)
		require.NoError(t, err)
		for _, p := range m.Pairs {
			needsR2 := p.From == "r2" || p.To == "r2" || (site[p.From] != site[p.To] && (site[p.From] == "b" || site[p.To] == "b"))
			assert.Equal(t, !needsR2, p.Reachable, "%s -> %s", p.From, p.To)
		}
	})
	if !ok {
		return
	}

	// 4. Restarted, the router brings its tunnels back by itself, as after
	// a reboot, if the routers layer left it a boot hook.
	t.Run("restarted router brings its tunnels back", func(t *testing.T) {
		require.NoError(t, l.Start(ctx, "r2"))
		r2, err := l.Exec("r2")
		require.NoError(t, err)
		hooks, _ := remote.Output(ctx, r2, "ls /etc/planetstage/boot.d 2>/dev/null")
		require.Contains(t, hooks, "50-openvpn", "the routers layer's boot hook brings the tunnels back")
		// Peers notice a restarted router at once or, at worst, at
		// keepalive's ping-restart (60 s).
		wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
		defer wcancel()
		m, err := l.MatrixUntil(wctx, func(m reach.Matrix) bool { return len(m.Unreachable()) == 0 })
		require.NoError(t, err)
		assert.Empty(t, m.Unreachable(), "after the restart, without re-apply:\n%s", m.Table())
	})
}

package lab_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
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

// TestCrashConsistency interrupts the network layers (routers, their
// tunnel probes, the load balancer) of a three-site mesh shaped like the
// thesis's, on real OpenVPN and HAProxy over SSH: the apply is cancelled
// after its k-th step, for every k, and the load balancer's container is
// killed as its step starts. Each time the next apply must converge (every
// machine reaches every other) to exactly the configuration an
// uninterrupted apply made, and the one after must change nothing.
//
// It takes minutes, so it runs when PLANETSTAGE_HEAVY_TESTS=1 (CI's heavy
// step sets it).
func TestCrashConsistency(t *testing.T) {
	if os.Getenv("PLANETSTAGE_HEAVY_TESTS") != "1" {
		t.Skip("set PLANETSTAGE_HEAVY_TESTS=1 to run (minutes)")
	}
	if err := exec.Command("docker", "version").Run(); err != nil {
		t.Skipf("needs a running Docker engine: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	topo := faultTopology()
	topo.Name = "labtest-crash"
	moveTo27(topo) // its own prefixes, so it runs beside TestFaults
	l, err := lab.Up(ctx, topo, lab.Options{StateDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, l.Down(context.Background())) })
	state, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)
	env := l.Env(state)
	layers := []string{layer.Routers, layer.LB}
	walk := func(ctx context.Context, destroy bool, hook plan.Hook) (*plan.Result, error) {
		build := layer.Plan
		if destroy {
			build = layer.DestroyPlan
		}
		g, err := build(l.Topology(), env, layers...)
		require.NoError(t, err)
		return plan.Walk(ctx, g, plan.Options{Apply: true, Hook: hook})
	}
	converged := func(t *testing.T, what string) {
		t.Helper()
		_, err := walk(ctx, false, nil)
		require.NoError(t, err, "%s: the next apply", what)
		wctx, wcancel := context.WithTimeout(ctx, time.Minute)
		m, err := l.MatrixUntil(wctx, func(m reach.Matrix) bool { return len(m.Unreachable()) == 0 })
		wcancel()
		require.NoError(t, err)
		require.Empty(t, m.Unreachable(), "%s: after the next apply\n%s", what, m.Table())
		res, err := walk(ctx, false, nil)
		require.NoError(t, err)
		for _, s := range res.Steps {
			assert.Equal(t, plan.NoOp, s.Action, "%s: the apply after: %s: %s", what, s.ID, s.Reason)
		}
	}

	res, err := walk(ctx, false, nil)
	require.NoError(t, err)
	converged(t, "uninterrupted")
	want := configOf(ctx, t, l)
	steps := len(res.Steps)
	require.GreaterOrEqual(t, steps, 7, "3 routers, 3 tunnel probes, a load balancer")

	for k := 1; k < steps; k++ {
		_, err := walk(ctx, true, nil)
		require.NoError(t, err, "destroy before k=%d", k)
		cctx, ccancel := context.WithCancel(ctx)
		finished := 0
		_, err = walk(cctx, false, plan.HookFunc(func(e plan.Event) {
			if e.Kind == plan.Finished {
				if finished++; finished == k {
					ccancel()
				}
			}
		}))
		ccancel()
		t.Logf("k=%d: cancelled apply: %v", k, err)
		converged(t, fmt.Sprintf("cancelled after step %d", k))
		assert.Equal(t, want, configOf(ctx, t, l), "k=%d: the configuration differs from an uninterrupted apply's", k)
	}

	// The load balancer's container killed as its step starts.
	_, err = walk(ctx, true, nil)
	require.NoError(t, err)
	killed := false
	_, err = walk(ctx, false, plan.HookFunc(func(e plan.Event) {
		if e.Kind == plan.Started && e.Step.ID == topology.LoadBalancerID("lb") && !killed {
			killed = true
			assert.NoError(t, l.Kill(ctx, "lb"))
		}
	}))
	require.True(t, killed)
	require.Error(t, err, "the load balancer's step fails with its machine gone")
	require.NoError(t, l.Start(ctx, "lb"))
	converged(t, "load balancer killed")
	assert.Equal(t, want, configOf(ctx, t, l), "after the load balancer was killed")
}

// configOf is what the network layers leave on the machines: every file
// they write (OpenVPN, boot hooks, HAProxy), hashed, and the routes.
func configOf(ctx context.Context, t *testing.T, l *lab.Lab) map[string]string {
	t.Helper()
	// Every file, temporary ones too: an interrupted atomic write leaves
	// its ".NAME.tmp-XXXXXX", which the repairing apply's write of the
	// same file must remove.
	const script = `cd / && find etc/openvpn etc/planetstage etc/haproxy -type f 2>/dev/null | sort | xargs -r sha256sum; ip route show | grep -v 'linkdown' | sort`
	out := map[string]string{}
	for _, m := range l.Machines() {
		if !m.Router && m.Name != "lb" {
			continue
		}
		r, err := l.Exec(m.Name)
		require.NoError(t, err)
		got, err := remote.Output(ctx, r, script)
		require.NoError(t, err, m.Name)
		out[m.Name] = got
	}
	require.True(t, slices.ContainsFunc(l.Machines(), func(m lab.Machine) bool { return m.Name == "lb" }))
	return out
}

// moveTo27 moves faultTopology's addresses from 10.26/172.26 to 10.27/172.27.
func moveTo27(t *topology.Topology) {
	move := func(a netip.Addr) netip.Addr {
		b := a.As4()
		if b[1] == 26 {
			b[1] = 27
		}
		return netip.AddrFrom4(b)
	}
	movePrefix := func(p netip.Prefix) netip.Prefix { return netip.PrefixFrom(move(p.Addr()), p.Bits()) }
	t.Underlay.Prefix = movePrefix(t.Underlay.Prefix)
	for i := range t.Sites {
		s := &t.Sites[i]
		s.Prefix = movePrefix(s.Prefix)
		s.Router.WAN, s.Router.LAN = move(s.Router.WAN), move(s.Router.LAN)
		for j := range s.Hosts {
			s.Hosts[j].Address = move(s.Hosts[j].Address)
		}
	}
}

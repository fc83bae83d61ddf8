package lab

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/topology"
)

// TestLabCompareTunnelKinds runs the tunnel-kind comparison on a running
// three-site WireGuard lab located in the planet preset's cities, with its
// WAN relay as a process of its own, as `stage measure --lab --kinds`
// has it: OpenVPN and WireGuard are each measured without latency and
// with the cities', every pair carries traffic under each, and the lab
// ends on WireGuard with nothing of OpenVPN left and nothing for an apply
// to change. The numbers are logged, not held to: they belong to
// docs/performance.md, measured on a quiet machine.
//
// A few minutes of lab time, so it runs when PLANETSTAGE_HEAVY_TESTS=1
// (CI's heavy step).
func TestLabCompareTunnelKinds(t *testing.T) {
	if os.Getenv("PLANETSTAGE_HEAVY_TESTS") != "1" {
		t.Skip("set PLANETSTAGE_HEAVY_TESTS=1 to run (minutes)")
	}
	if err := exec.Command("docker", "version").Run(); err != nil {
		t.Skipf("needs a running Docker engine: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	topo := cmpTopology("cmp-kinds", topology.VPNTypeWireGuard, 3, true)
	opts := Options{StateDir: t.TempDir(), RelayCommand: testRelayCommand}
	l, err := Up(ctx, topo, opts)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, l.Down(context.Background())) })
	_, err = l.Apply(ctx, ApplyOptions{})
	require.NoError(t, err)

	start := time.Now()
	// Without latency last, so that the restore finds the relay's shaping
	// off and must turn it on again.
	c, err := l.CompareTunnelKinds(ctx, CompareOptions{Latencies: []Latency{TopologyLatency, NoLatency},
		Measure: layer.MeasureOptions{Pings: 10, Interval: 100 * time.Millisecond, Throughput: 2 * time.Second}})
	require.NoError(t, err)
	t.Logf("compared in %s:\n%s", time.Since(start).Round(time.Second), c.Table())

	assert.Equal(t, []string{topology.VPNTypeOpenVPN, topology.VPNTypeWireGuard}, c.Kinds, "both kinds by default")
	require.Len(t, c.Runs, 4, "each kind under each setting")
	assert.Len(t, c.Direct, 3, "the direct RTT of every pair")
	pairs := []string{"s1-s2", "s1-s3", "s2-s3"}
	targets := map[string]float64{}
	for _, run := range c.Runs {
		if run.Latency == TopologyLatency {
			for _, s := range run.Sites {
				targets[s.From+"-"+s.To] = s.TargetMs
			}
		}
	}
	for _, run := range c.Runs {
		what := run.Kind + ", latency " + string(run.Latency)
		var sites, tunnels []string
		for _, s := range run.Sites {
			sites = append(sites, s.From+"-"+s.To)
			assert.Positive(t, s.MeasuredMs, "%s %s-%s: pinged through the tunnel", what, s.From, s.To)
			switch run.Latency {
			case TopologyLatency:
				require.Positive(t, s.TargetMs, "%s: the cities' latency is the target", what)
				// The relay holds each datagram for the one-way delay both
				// ways, so no RTT is below the target; ping prints whole
				// milliseconds from 100 ms up, hence the 0.5.
				assert.GreaterOrEqual(t, s.MeasuredMs, s.TargetMs-0.5, "%s %s-%s: faster than the cities' RTT, so not through the relay's delay", what, s.From, s.To)
			case NoLatency:
				assert.Zero(t, s.TargetMs, what)
				// Shaping off: nowhere near the cities' RTT (tens of ms at
				// least), however loaded the machine.
				assert.Less(t, s.MeasuredMs, targets[s.From+"-"+s.To]/2, "%s %s-%s: the relay's shaping was not off", what, s.From, s.To)
			}
		}
		for _, tr := range run.Tunnels {
			tunnels = append(tunnels, tr.From+"-"+tr.To)
			assert.Positive(t, tr.TunnelMbps, "%s %s-%s: TCP through the tunnel", what, tr.From, tr.To)
			assert.Positive(t, tr.RouterCPUPct, "%s %s-%s: the routers worked", what, tr.From, tr.To)
		}
		assert.ElementsMatch(t, pairs, sites, "%s: every pair pinged", what)
		assert.ElementsMatch(t, pairs, tunnels, "%s: every tunnel carried TCP (%s)", what, run.TunnelsSkipped)
	}

	// Back on the topology's kind, with nothing of the other left and the
	// relay's shaping back.
	assert.Equal(t, topology.VPNTypeWireGuard, c.Restored)
	require.NotEmpty(t, c.Switches)
	assert.True(t, c.Switches[len(c.Switches)-1].Restore)
	assert.Positive(t, c.Switches[len(c.Switches)-1].Changed, "OpenVPN was measured last, so restoring WireGuard changed the routers")
	assert.Equal(t, topology.VPNTypeWireGuard, l.Topology().VPN.Type)
	for _, s := range topo.Sites {
		st := routerState(ctx, t, l, s.Router.Name)
		assert.NotContains(t, st, "openvpn", "router %s: no openvpn daemon left", s.Router.Name)
		assert.NotContains(t, st, "vtun", "router %s: no OpenVPN device or route left", s.Router.Name)
		if !kernelWireGuard() {
			assert.Equal(t, 2, strings.Count(st, "wireguard-go"), "router %s: a wireguard-go per tunnel", s.Router.Name)
		}
	}
	assert.True(t, l.relayUpToDate(), "the relay runs the topology's paths, shaping included")
	// A new process's view of the lab, as the next `stage apply` has:
	// nothing to change.
	again, err := Attach(ctx, topo, opts)
	require.NoError(t, err)
	res, err := again.Apply(ctx, ApplyOptions{DryRun: true})
	require.NoError(t, err)
	sum := res.Summary()
	assert.Zero(t, sum.Created+sum.Updated+sum.Deleted, "a re-apply after the comparison changes nothing: %s", res)
	m, err := again.Matrix(ctx)
	require.NoError(t, err)
	assert.Empty(t, m.Unreachable(), m.Table())
}

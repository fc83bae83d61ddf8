package layer

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// measuredRouter is a fake remote.Runner for MeasureWAN: it answers ping
// with fixed RTTs, iperf3 with fixed rates, and /proc/stat with a counter
// that grows on every read. The real commands run in package wan's tests.
type measuredRouter struct {
	name    string
	rttMs   float64
	noIperf bool // command -v iperf3 finds nothing
	mu      sync.Mutex
	cmds    []string
	ticks   int
}

func (m *measuredRouter) Run(_ context.Context, c remote.Cmd) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cmds = append(m.cmds, c.Command)
	out := ""
	switch {
	case strings.HasPrefix(c.Command, "command -v iperf3"):
		out = "yes\n"
		if m.noIperf {
			out = "no\n"
		}
	case strings.HasPrefix(c.Command, "LC_ALL=C ping"):
		for i := range 3 {
			out += fmt.Sprintf("64 bytes from x: icmp_seq=%d ttl=64 time=%.1f ms\n", i+1, m.rttMs+float64(i))
		}
		out += "3 packets transmitted, 3 received, 0% packet loss\n"
	case strings.HasPrefix(c.Command, "setsid iperf3"):
		out = "4242\n"
	case strings.Contains(c.Command, "iperf3 -c 10.255."):
		out = `{"end": {"sum_received": {"bits_per_second": 40e6}}}`
	case strings.HasPrefix(c.Command, "iperf3 -c"):
		out = `{"end": {"sum_received": {"bits_per_second": 900e6}}}`
	}
	if c.Stdout != nil {
		_, _ = io.WriteString(c.Stdout, out)
	}
	return nil
}

func (m *measuredRouter) WriteFile(context.Context, string, []byte, fs.FileMode) error {
	return fs.ErrPermission
}

func (m *measuredRouter) ReadFile(_ context.Context, path string) ([]byte, error) {
	if path != "/proc/stat" {
		return nil, fs.ErrNotExist
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ticks += 10
	return fmt.Appendf(nil, "cpu  %d 0 0 1000 0 0 0 0 0 0\n", m.ticks), nil
}

func (m *measuredRouter) Host() string { return m.name }

func TestMeasureWAN(t *testing.T) {
	t.Parallel()
	top := routersTopology(topology.RouterLinux, topology.RouterLinux, topology.RouterLinux)
	env := planetEnv(t, top)
	routers := map[string]*measuredRouter{}
	for _, s := range top.Sites {
		routers[s.Router.Name] = &measuredRouter{name: s.Router.Name, rttMs: 150}
	}
	env.Dial = func(_ context.Context, name string) (remote.Runner, error) {
		r, ok := routers[name]
		if !ok {
			return nil, fmt.Errorf("no machine %q", name)
		}
		return r, nil
	}
	rep, err := MeasureWAN(t.Context(), top, env, MeasureOptions{Pings: 3, Interval: time.Millisecond, Throughput: time.Second})
	require.NoError(t, err)
	require.Len(t, rep.Sites, 3, "a mesh of three sites has three tunnels")
	matrix, _, err := LatencyMatrix(top, env)
	require.NoError(t, err)
	for _, s := range rep.Sites {
		assert.Equal(t, 151.0, s.MeasuredMs, "the median of 150, 151, 152")
		var target float64
		for _, e := range matrix {
			if e.Pair == wan.NewPair(s.From, s.To) {
				target = float64(e.RTT) / float64(time.Millisecond)
			}
		}
		assert.InDelta(t, target, s.TargetMs, 0.01, "%s-%s", s.From, s.To)
	}
	require.Len(t, rep.Tunnels, 3)
	assert.Empty(t, rep.TunnelsSkipped)
	for _, tn := range rep.Tunnels {
		assert.Equal(t, 40.0, tn.TunnelMbps)
		assert.Equal(t, 900.0, tn.DirectMbps)
		assert.Positive(t, tn.RouterCPUPct)
	}
	// Pings go to the peer's tunnel address, from the tunnel's first end.
	assert.Contains(t, routers["r1"].cmds, "LC_ALL=C ping -n -c 3 -i 0.001 -W 2 10.255.0.2")

	// Without a latency model the RTTs are still measured, against no
	// target; without Throughput no TCP runs.
	rep, err = MeasureWAN(t.Context(), top, &Env{Dial: env.Dial}, MeasureOptions{Pings: 3, Interval: time.Millisecond})
	require.NoError(t, err)
	require.Len(t, rep.Sites, 3)
	assert.Zero(t, rep.Sites[0].TargetMs)
	assert.Empty(t, rep.Tunnels)
	assert.Equal(t, "not asked for", rep.TunnelsSkipped)

	// A router without iperf3 leaves its tunnels unmeasured, and the
	// report says so instead of handing back a quietly short list.
	routers["r2"].noIperf = true
	rep, err = MeasureWAN(t.Context(), top, env, MeasureOptions{Pings: 3, Interval: time.Millisecond, Throughput: time.Second})
	require.NoError(t, err)
	require.Len(t, rep.Sites, 3, "latency is measured all the same")
	assert.Len(t, rep.Tunnels, 1, "only r1–r3 has iperf3 at both ends")
	assert.Equal(t, "for some tunnels: iperf3 is not installed on router r2", rep.TunnelsSkipped)
	assert.Contains(t, rep.Table(), "tunnel throughput not measured: for some tunnels: iperf3 is not installed on router r2")
	routers["r2"].noIperf = false

	// A router that cannot be reached is named; the others are measured.
	delete(routers, "r3")
	rep, err = MeasureWAN(t.Context(), top, env, MeasureOptions{Pings: 3, Interval: time.Millisecond})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `router "r3"`)
	assert.Len(t, rep.Sites, 1)
}

// TestMeasureWANPaths measures site pairs end to end in a regional VPN:
// two hubs (Tokyo and Frankfurt), a spoke of each (sites placed by the
// "planet" preset: site-c São Paulo joins Frankfurt, site-d New York
// too, nearer than Tokyo).
func TestMeasureWANPaths(t *testing.T) {
	t.Parallel()
	top := routersTopology(topology.RouterLinux, topology.RouterLinux, topology.RouterLinux, topology.RouterLinux)
	require.NoError(t, top.PlaceSites("planet"))
	top.VPN.Mode, top.VPN.Hubs = topology.VPNRegional, []string{"site-a", "site-b"}
	require.NoError(t, top.Validate())
	env := &Env{}
	routers := map[string]*measuredRouter{}
	for _, s := range top.Sites {
		routers[s.Router.Name] = &measuredRouter{name: s.Router.Name, rttMs: 150}
	}
	env.Dial = func(_ context.Context, name string) (remote.Runner, error) { return routers[name], nil }

	rep, err := MeasureWAN(t.Context(), top, env, MeasureOptions{Pings: 3, Interval: time.Millisecond, Paths: AllPaths})
	require.NoError(t, err)
	require.Len(t, rep.Sites, 6, "every pair of four sites")
	assert.Empty(t, rep.Sample, "all pairs: no sample")
	matrix, _, err := LatencyMatrix(top, withLatency(top, env))
	require.NoError(t, err)
	tunnelMs := map[wan.Pair]float64{}
	for _, e := range matrix {
		tunnelMs[e.Pair] = float64(e.RTT) / float64(time.Millisecond)
	}
	require.Len(t, tunnelMs, 3, "the hubs' tunnel and one per spoke")
	byPair := map[string]wan.SiteResult{}
	for _, s := range rep.Sites {
		byPair[s.From+" "+s.To] = s
	}
	// São Paulo to New York: both spokes of Frankfurt.
	cd := byPair["site-c site-d"]
	assert.Equal(t, []string{"site-c", "site-b", "site-d"}, cd.Path)
	assert.InDelta(t, tunnelMs[wan.NewPair("site-b", "site-c")]+tunnelMs[wan.NewPair("site-b", "site-d")], cd.TargetMs, 0.02)
	// Tokyo's hub to São Paulo: hub, hub, spoke.
	ac := byPair["site-a site-c"]
	assert.Equal(t, []string{"site-a", "site-b", "site-c"}, ac.Path)
	assert.InDelta(t, tunnelMs[wan.NewPair("site-a", "site-b")]+tunnelMs[wan.NewPair("site-b", "site-c")], ac.TargetMs, 0.02)
	// A pair joined by a tunnel has no path beyond itself, and its target
	// is that tunnel's.
	ab := byPair["site-a site-b"]
	assert.Empty(t, ab.Path)
	assert.InDelta(t, tunnelMs[wan.NewPair("site-a", "site-b")], ab.TargetMs, 0.01)
	// Through hubs the far router's LAN address is pinged; over one tunnel
	// its tunnel address.
	assert.Contains(t, routers["r3"].cmds, "LC_ALL=C ping -n -c 3 -i 0.001 -W 2 192.168.40.1")
	assert.Contains(t, routers["r1"].cmds, "LC_ALL=C ping -n -c 3 -i 0.001 -W 2 10.255.0.2")

	rep, err = MeasureWAN(t.Context(), top, env, MeasureOptions{Pings: 3, Interval: time.Millisecond, Paths: 2})
	require.NoError(t, err)
	require.Len(t, rep.Sites, 2)
	assert.Equal(t, "2 of 6 site pairs, spread evenly over them in site order", rep.Sample)
	assert.Equal(t, []string{"site-a", "site-b"}, []string{rep.Sites[0].From, rep.Sites[0].To})
	assert.Equal(t, []string{"site-b", "site-c"}, []string{rep.Sites[1].From, rep.Sites[1].To})
}

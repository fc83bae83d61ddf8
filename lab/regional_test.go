package lab_test

import (
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/lab/labtest"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/topology"
)

// How close to its target a path's RTT is belongs to a measurement on a
// quiet machine (the main job's --geo check holds every tunnel to 5 %,
// and BenchmarkPlanet50 reports the paths of 50 sites); a test shares the
// machine with other packages' tests, whose load adds tens of
// milliseconds, unevenly, at every relay and router crossed. What load
// cannot do is make a path faster than the relay's delays along it: so
// here every pair must be at least (nearly) its target, the sum of the
// tunnels it crosses, which it would not be were its traffic to skip one.

// TestRegionalHubsInTheLab brings up six cities on three continents
// joined by regional hubs (Frankfurt, Tokyo, New York; London, Seoul and
// Toronto join the nearest), with real OpenVPN through the lab's WAN relay
// and the latency of the distances: every pair of machines answers, every
// site pair's traffic crosses the hubs its path names, taking at least the
// sum of those tunnels' latency, and a second apply changes nothing. Minutes
// of lab time, so it runs when PLANETSTAGE_HEAVY_TESTS=1 (CI's heavy step).
func TestRegionalHubsInTheLab(t *testing.T) {
	if os.Getenv("PLANETSTAGE_HEAVY_TESTS") != "1" {
		t.Skip("a lab of six sites: set PLANETSTAGE_HEAVY_TESTS=1 to run (minutes)")
	}
	topo, err := topology.Planet(topology.PlanetOptions{
		Name:     "regional",
		Cities:   []string{"Frankfurt", "London", "Tokyo", "Seoul", "New York", "Toronto"},
		Hubs:     []string{"Frankfurt", "Tokyo", "New York"},
		Underlay: netip.MustParsePrefix("10.46.0.0/24"),
		Sites:    netip.MustParsePrefix("10.46.64.0/18"),
		Transit:  netip.MustParsePrefix("10.46.254.0/24"),
	})
	require.NoError(t, err)
	l := labtest.Up(t, topo, lab.Options{})

	m, err := l.Matrix(t.Context())
	require.NoError(t, err)
	assert.Empty(t, m.Unreachable(), m.Table())

	rep, err := l.MeasureWAN(t.Context(), layer.MeasureOptions{Pings: 10, Interval: 100 * time.Millisecond, Paths: layer.AllPaths}, nil)
	require.NoError(t, err)
	require.Len(t, rep.Sites, 15, "every pair of six sites")
	through := 0
	for _, s := range rep.Sites {
		if len(s.Path) > 0 {
			through++
		}
	}
	// Pairs joined by a tunnel: the hubs' three and one per spoke.
	assert.Equal(t, 15-6, through, "pairs whose traffic crosses a hub")
	for _, s := range rep.Sites {
		assert.GreaterOrEqual(t, s.MeasuredMs, 0.95*s.TargetMs, "%s-%s through %v: faster than the tunnels on its path\n%s", s.From, s.To, s.Path, rep.Table())
	}
	t.Logf("under this machine's load:\n%s", rep.Table())

	res, err := l.Apply(t.Context(), lab.ApplyOptions{})
	require.NoError(t, err)
	s := res.Summary()
	assert.Zero(t, s.Created+s.Updated+s.Deleted+s.Failed, "a second apply changes nothing: %s", res)
}

package gossip

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/experiment"
	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/lab/labtest"
)

// TestGossipAcrossThePlanet runs the experiment for real: a lab of three
// sites in Tokyo, Frankfurt and São Paulo with the WAN relay's delays, a
// kubeadm cluster on the offline node image, libp2p gossipsub peers
// compiled from the module proxy and run as a DaemonSet on the workers,
// São Paulo cut off on the relay mid-run and healed. It checks the
// must-holds on what the peers recorded: no site pair's delivery faster
// than its emulated one-way delay; São Paulo receives nothing from the
// others during its partition and receives again after it; the others
// lose São Paulo's messages meanwhile (the cut reached the system); and
// the folder holds results.json and the report.
//
// Minutes of lab time (the cluster), so it runs when
// PLANETSTAGE_HEAVY_TESTS=1 (CI's heavy step), with the node image built
// before (PLANETSTAGE_NODE_IMAGE, as CI sets it).
func TestGossipAcrossThePlanet(t *testing.T) {
	if os.Getenv("PLANETSTAGE_HEAVY_TESTS") != "1" {
		t.Skip("a kubeadm cluster in the lab: set PLANETSTAGE_HEAVY_TESTS=1 to run (minutes)")
	}
	image := os.Getenv("PLANETSTAGE_NODE_IMAGE")
	if image == "" {
		t.Skip("needs the Kubernetes node image: eval \"$(go run ./examples/stage node-image --env)\" first (CI does)")
	}
	topo, err := Topology("planet")
	require.NoError(t, err)
	start := time.Now()
	l := labtest.Up(t, topo, lab.Options{Kubernetes: true, NodeImage: image})
	t.Logf("lab and cluster up in %.1f s", time.Since(start).Seconds())
	b, err := l.Bootstrapper()
	require.NoError(t, err)

	dir := t.TempDir()
	start = time.Now()
	res, err := Run(t.Context(), experiment.ForLab(l), b, Options{Dir: dir, // the built-in peer, as an importer of planetstage gets it
		Before: 15 * time.Second, During: 15 * time.Second, After: 20 * time.Second, Deadline: 5 * time.Second,
		ProbeInterval: time.Second, Progress: func(line string) { t.Log(line) }})
	require.NoError(t, err)
	t.Logf("gossip run in %.1f s", time.Since(start).Seconds())
	require.NotNil(t, res)
	assert.Empty(t, res.Problems)
	assert.Equal(t, "sao-paulo", res.Partitioned)

	require.Len(t, res.Pairs, 6, "every ordered pair of the three sites")
	for _, p := range res.Pairs {
		assert.Positive(t, p.OneWayMs, "%s to %s: the relay delays it", p.From, p.To)
		assert.Positive(t, p.Count, "%s to %s: messages delivered", p.From, p.To)
		assert.GreaterOrEqual(t, p.MinMs, p.OneWayMs, "%s to %s: no message faster than the emulated one-way delay", p.From, p.To)
		assert.GreaterOrEqual(t, p.P50Ms, p.OneWayMs)
		assert.GreaterOrEqual(t, p.P99Ms, p.P50Ms)
	}
	ratio := map[string]Delivery{}
	for _, d := range res.Delivery {
		ratio[d.Site+"/"+string(d.Phase)] = d
	}
	for _, site := range []string{"tokyo", "frankfurt", "sao-paulo"} {
		before := ratio[site+"/before"]
		assert.GreaterOrEqual(t, before.Ratio, 0.9, "%s before the partition: %+v", site, before)
	}
	during := ratio["sao-paulo/during"]
	assert.Positive(t, during.Expected, "the others published during the partition")
	assert.Zero(t, during.Delivered, "São Paulo receives nothing during its partition")
	assert.Zero(t, res.CrossedDuringCut, "nothing crossed the cut while it held")
	assert.Positive(t, ratio["sao-paulo/after"].Delivered, "São Paulo receives again after the heal")
	for _, site := range []string{"tokyo", "frankfurt"} {
		assert.Less(t, ratio[site+"/during"].Ratio, 0.75, "%s misses São Paulo's half during the cut", site)
	}

	raw, err := os.ReadFile(filepath.Join(dir, ResultsFile))
	require.NoError(t, err)
	var file struct {
		Pairs []struct {
			From, To               string
			OneWayMs, P50Ms, P99Ms *float64
		} `json:"pairs"`
		Delivery []struct {
			Site, Phase string
			Ratio       *float64
		} `json:"delivery"`
	}
	require.NoError(t, json.Unmarshal(raw, &file))
	require.Len(t, file.Pairs, 6)
	for _, p := range file.Pairs {
		assert.NotEmpty(t, p.From)
		assert.NotNil(t, p.OneWayMs)
		assert.NotNil(t, p.P50Ms)
		assert.NotNil(t, p.P99Ms)
	}
	phases := map[string]bool{}
	for _, d := range file.Delivery {
		phases[d.Site+"/"+d.Phase] = d.Ratio != nil
	}
	assert.True(t, phases["sao-paulo/during"], "the partitioned site's name is among the delivery rows")
	assert.Len(t, phases, 9)
	report, err := os.ReadFile(filepath.Join(dir, experiment.ReportFile))
	require.NoError(t, err)
	assert.Contains(t, string(report), "Gossip: delivery latency per site pair")
	assert.Contains(t, string(report), "received/s sao-paulo", "the peers' counters are in the timeline")
	if keep := os.Getenv("GOSSIP_KEEP_RESULTS"); keep != "" {
		require.NoError(t, os.CopyFS(keep, os.DirFS(dir)))
		t.Logf("results folder copied to %s", keep)
	}
}

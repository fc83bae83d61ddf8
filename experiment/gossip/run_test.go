package gossip

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/experiment"
)

func fastOptions(t *testing.T, f *fakeNet, dir string) Options {
	o := Options{Dir: dir, Binary: []byte{1}, Before: 1500 * time.Millisecond, During: 1500 * time.Millisecond,
		After: 1500 * time.Millisecond, Deadline: 300 * time.Millisecond, ProbeInterval: 200 * time.Millisecond}
	o.defaults()
	_, err := o.plan(f.topo)
	require.NoError(t, err)
	return o
}

// The phases on a stand-in network: the run cuts and heals the site on
// the testbed, and the folder holds the results, the peers' states, the
// events and the tables in the report.
func TestRunPhasesOnAStandIn(t *testing.T) {
	t.Parallel()
	f := newFakeNet(t)
	dir := t.TempDir()
	o := fastOptions(t, f, dir)
	oneWay, floor, err := delays(f, f.topo, f.peers)
	require.NoError(t, err)
	res, err := runPhases(t.Context(), f, &collector{tb: f, peers: f.peers}, o, oneWay, floor)
	require.NoError(t, err)
	assert.Empty(t, res.Problems)
	assert.Equal(t, []string{
		"cut sao-paulo<->tokyo true", "cut frankfurt<->sao-paulo true",
		"cut sao-paulo<->tokyo false", "cut frankfurt<->sao-paulo false",
	}, f.Calls())
	var file Results
	require.NoError(t, json.Unmarshal(readFile(t, dir, ResultsFile), &file))
	assert.Equal(t, *res, file, "results.json holds the results returned")
	assert.Len(t, file.Delivery, 9)
	var states []PeerState
	require.NoError(t, json.Unmarshal(readFile(t, dir, PeersFile), &states))
	assert.Len(t, states, 3)
	var recs []experiment.Record
	require.NoError(t, json.Unmarshal(readFile(t, dir, experiment.EventsJSONFile), &recs))
	require.Len(t, recs, 2)
	assert.Equal(t, experiment.Partition, recs[0].Event.Kind)
	assert.Equal(t, experiment.Heal, recs[1].Event.Kind)
	assert.Contains(t, string(readFile(t, dir, experiment.ReportFile)), "Gossip: delivery ratio per site")
	assert.Contains(t, string(readFile(t, dir, experiment.MetricsJSON)), "received/s sao-paulo")
}

// Ctrl-C during the partition: the run heals the cut (the testbed is left
// whole) and the folder keeps what was measured, the phases reached.
func TestInterruptedRunKeepsItsResults(t *testing.T) {
	t.Parallel()
	f := newFakeNet(t)
	dir := t.TempDir()
	o := fastOptions(t, f, dir)
	o.During = 10 * time.Second
	oneWay, floor, err := delays(f, f.topo, f.peers)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		time.Sleep(o.Before + 1200*time.Millisecond)
		cancel()
	}()
	res, err := runPhases(ctx, f, &collector{tb: f, peers: f.peers}, o, oneWay, floor)
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, res)
	assert.Equal(t, []string{
		"cut sao-paulo<->tokyo true", "cut frankfurt<->sao-paulo true",
		"cut sao-paulo<->tokyo false", "cut frankfurt<->sao-paulo false",
	}, f.Calls(), "the cut was healed")
	assert.Empty(t, res.Problems)
	assert.Contains(t, res.Notes, "phase after: not reached")
	var file Results
	require.NoError(t, json.Unmarshal(readFile(t, dir, ResultsFile), &file))
	phases := map[Phase]bool{}
	for _, d := range file.Delivery {
		phases[d.Phase] = true
		if d.Site == "sao-paulo" && d.Phase == During {
			assert.Zero(t, d.Delivered)
			assert.Positive(t, d.Expected)
		}
	}
	assert.Equal(t, map[Phase]bool{Before: true, During: true}, phases)
	assert.FileExists(t, filepath.Join(dir, experiment.ReportFile))
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	return b
}

package experiment

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// Bad input is an error naming the value, and nothing is done: no call to
// the testbed, no folder.
func TestStartRejectsBadEvents(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		s    Scheduled
		want string
	}{
		{"unknown site", Scheduled{Event: Event{Kind: Partition, Site: "mars"}}, `site "mars": no such site`},
		{"negative delay", Scheduled{Event: Event{Kind: SetLink, From: "tokyo", To: "frankfurt", Shape: shape(-5*time.Millisecond, 0)}}, "delay -5ms: must not be negative"},
		{"loss over 100", Scheduled{Event: Event{Kind: SetLink, From: "tokyo", To: "frankfurt", Shape: shape(0, 101)}}, "loss 101%"},
		{"in the past", Scheduled{After: -time.Second, Event: Event{Kind: Heal, Site: "tokyo"}}, "after -1s: an event in the past"},
		{"unknown machine", Scheduled{Event: Event{Kind: StopMachine, Machine: "rmars"}}, `machine "rmars": no such machine`},
		{"same site", Scheduled{Event: Event{Kind: SetLink, From: "tokyo", To: "tokyo", Shape: shape(0, 0)}}, `both "tokyo"`},
		{"no shape", Scheduled{Event: Event{Kind: SetLink, From: "tokyo", To: "frankfurt"}}, "shape missing"},
		{"unknown kind", Scheduled{Event: Event{Kind: "explode"}}, `event kind "explode"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake()
			dir := filepath.Join(t.TempDir(), "out")
			_, err := Start(t.Context(), f, Options{Dir: dir, Schedule: []Scheduled{
				{After: time.Millisecond, Event: Event{Kind: Partition, Site: "tokyo"}}, tc.s}})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, f.Calls(), "nothing done")
			assert.NoDirExists(t, dir, "no folder made")
		})
	}
}

func TestNoTunnelOfItsOwn(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.topo.VPN.Mode, f.topo.VPN.Hub = topology.VPNHubSpoke, "tokyo"
	_, err := Start(t.Context(), f, Options{Dir: t.TempDir(), Schedule: []Scheduled{
		{Event: Event{Kind: SetLink, From: "frankfurt", To: "saopaulo", Shape: shape(time.Millisecond, 0)}}}})
	require.ErrorContains(t, err, `sites "frankfurt" and "saopaulo" have no tunnel of their own`)
}

// Scheduled events fire in order at their offsets, on the testbed, and
// the folder records them as JSON and CSV.
func TestScheduleFiresAndRecords(t *testing.T) {
	t.Parallel()
	f := newFake()
	dir := t.TempDir()
	r, err := Start(t.Context(), f, Options{Dir: dir, ProbeInterval: time.Hour, Schedule: []Scheduled{
		{After: 150 * time.Millisecond, Event: Event{Kind: Heal, Site: "tokyo"}},
		{After: 50 * time.Millisecond, Event: Event{Kind: Partition, Site: "tokyo"}},
		{After: 100 * time.Millisecond, Event: Event{Kind: SetLink, From: "saopaulo", To: "frankfurt", Shape: shape(40*time.Millisecond, 1)}},
	}})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(f.Calls()) == 5 }, 5*time.Second, 10*time.Millisecond)
	// On demand, and an event now past refused.
	_, err = r.Do(t.Context(), Event{Kind: StopMachine, Machine: "rfrankfurt"})
	require.NoError(t, err)
	require.ErrorContains(t, r.Schedule(time.Millisecond, Event{Kind: StartMachine, Machine: "rfrankfurt"}), "an event in the past")
	require.NoError(t, r.Stop())

	assert.Equal(t, []string{
		"cut frankfurt<->tokyo true", "cut saopaulo<->tokyo true",
		"shape frankfurt<->saopaulo 40ms",
		"cut frankfurt<->tokyo false", "cut saopaulo<->tokyo false",
		"stop rfrankfurt",
	}, f.Calls())

	var recs []Record
	require.NoError(t, json.Unmarshal(readFile(t, dir, EventsJSONFile), &recs))
	require.Len(t, recs, 4)
	for i, want := range []float64{50, 100, 150} {
		assert.GreaterOrEqual(t, recs[i].OffsetMs, want, "event %d fired early", i)
		assert.Less(t, recs[i].OffsetMs, want+1000, "event %d fired late", i)
		assert.True(t, recs[i].OK())
	}
	assert.Equal(t, "cut 2 tunnel(s) of site tokyo: to frankfurt, saopaulo", recs[0].Did)
	assert.Contains(t, recs[1].Did, "one-way delay 0s -> 40ms")

	rows := readCSV(t, dir, EventsCSVFile)
	require.Len(t, rows, 5)
	assert.Equal(t, []string{"time", "offset_ms", "kind", "event", "did", "ok", "error", "took_ms"}, rows[0])
	assert.Equal(t, "partition", rows[1][2])
	assert.Equal(t, "stop-machine rfrankfurt", rows[4][3])
}

// A failed event is recorded with its error, and returned.
func TestFailedEventIsRecorded(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.failOn = "start rtokyo"
	dir := t.TempDir()
	r, err := Start(t.Context(), f, Options{Dir: dir, ProbeInterval: time.Hour})
	require.NoError(t, err)
	_, err = r.Do(t.Context(), Event{Kind: StartMachine, Machine: "rtokyo"})
	require.ErrorContains(t, err, "fake failure")
	require.NoError(t, r.Stop())
	var recs []Record
	require.NoError(t, json.Unmarshal(readFile(t, dir, EventsJSONFile), &recs))
	require.Len(t, recs, 1)
	assert.Equal(t, "fake failure", recs[0].Error)
}

// A run whose context is cancelled keeps its folder whole: the static
// files, the probes measured so far, the events.
func TestCancelledRunKeepsWhatItMeasured(t *testing.T) {
	t.Parallel()
	f := newFake()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	r, err := Start(ctx, f, Options{Dir: dir, ProbeInterval: 20 * time.Millisecond, Pings: 1,
		Metrics:  func(context.Context) (map[string]float64, error) { return map[string]float64{"peers": 3}, nil },
		Schedule: []Scheduled{{After: 10 * time.Millisecond, Event: Event{Kind: Partition, Site: "saopaulo"}}}})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		var s []RTTSample
		return json.Unmarshal(readFile(t, dir, RTTJSONFile), &s) == nil && len(s) >= 6
	}, 5*time.Second, 10*time.Millisecond)
	cancel()
	require.NoError(t, r.Stop())

	for _, name := range []string{TopologyFile, FactsFile, EventsJSONFile, EventsCSVFile, RTTJSONFile, RTTCSVFile,
		MetricsJSON, MetricsCSV, SummaryFile, ReportFile} {
		assert.FileExists(t, filepath.Join(dir, name))
	}
	loaded, err := topology.Load(filepath.Join(dir, TopologyFile))
	require.NoError(t, err, "the topology file loads back")
	assert.Equal(t, f.topo.Sites, loaded.Sites)
	var facts map[string]string
	require.NoError(t, json.Unmarshal(readFile(t, dir, FactsFile), &facts))
	assert.Equal(t, "7", facts["relay.seed"])

	var rtts []RTTSample
	require.NoError(t, json.Unmarshal(readFile(t, dir, RTTJSONFile), &rtts))
	assert.Equal(t, "tokyo", rtts[0].From)
	assert.Equal(t, "frankfurt", rtts[0].To)
	assert.Equal(t, 0, rtts[0].Received, "the fake testbed cannot be dialled")
	assert.Contains(t, rtts[0].Error, "nothing to dial")
	rows := readCSV(t, dir, RTTCSVFile)
	assert.Len(t, rows, len(rtts)+1)
	assert.Equal(t, "100", rows[1][8], "loss_pct")

	var sum Summary
	require.NoError(t, json.Unmarshal(readFile(t, dir, SummaryFile), &sum))
	require.Len(t, sum.Pairs, 3)
	assert.Equal(t, 100.0, sum.Pairs[0].LossPct)
	require.Len(t, sum.Metrics, 1)
	assert.Equal(t, MetricSummary{Name: "peers", Min: 3, Median: 3, Max: 3, Count: sum.Metrics[0].Count}, sum.Metrics[0])
	assert.Positive(t, sum.Metrics[0].Count)
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	s := Summarize([]RTTSample{
		{From: "a", To: "b", TargetMs: 60, Sent: 4, Received: 4, MinMs: f(59), MedianMs: f(61), MaxMs: f(70)},
		{From: "a", To: "b", TargetMs: 60, Sent: 4, Received: 0},
		{From: "a", To: "b", TargetMs: 80, Sent: 4, Received: 2, MinMs: f(80), MedianMs: f(81), MaxMs: f(82)},
		{From: "a", To: "b", TargetMs: 80, Sent: 4, Received: 4, MinMs: f(79), MedianMs: f(90), MaxMs: f(95)},
	}, []MetricSample{{Name: "x", Value: 2}, {Name: "x", Value: 10}, {Name: "x", Value: 4}, {Name: "w", Value: 1}})
	require.Len(t, s.Pairs, 1)
	p := s.Pairs[0]
	assert.Equal(t, 59.0, *p.MinMs)
	assert.Equal(t, 81.0, *p.MedianMs, "the median of the probes' medians")
	assert.Equal(t, 95.0, *p.MaxMs)
	assert.Equal(t, 37.5, p.LossPct, "6 of 16 pings unanswered")
	assert.Equal(t, 4, p.Count)
	assert.Equal(t, 80.0, p.TargetMs, "the latest target")
	assert.Equal(t, []MetricSummary{{Name: "w", Min: 1, Median: 1, Max: 1, Count: 1}, {Name: "x", Min: 2, Median: 4, Max: 10, Count: 3}}, s.Metrics)
}

func TestCSVQuotesFields(t *testing.T) {
	t.Parallel()
	b := eventsCSV([]Record{{Event: Event{Kind: Heal, Site: "a"}, Did: `restored "x", y`, Error: "line\nbreak"}})
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, `restored "x", y`, rows[1][4])
	assert.Equal(t, "line\nbreak", rows[1][6])
	assert.Equal(t, "false", rows[1][5])
}

func TestEventString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "set-link a<->b delay 20ms jitter 0s loss 1.5%", Event{Kind: SetLink, From: "a", To: "b", Shape: &wan.Shape{Delay: 20 * time.Millisecond, LossPct: 1.5}}.String())
	assert.Equal(t, "partition site x", Event{Kind: Partition, Site: "x"}.String())
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil
	}
	return b
}

func readCSV(t *testing.T, dir, name string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(string(readFile(t, dir, name)))).ReadAll()
	require.NoError(t, err)
	return rows
}

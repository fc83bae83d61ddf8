package experiment

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/lab/labtest"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/wan"
)

// TestLabExperiment runs an experiment on a real lab (three Linux
// routers, real OpenVPN, the WAN relay in this process): the probes see
// every pair; partitioning São Paulo makes its pairs unreachable while
// Tokyo–Frankfurt still answers, healing brings them back; a live latency
// change on Tokyo–Frankfurt shows in the probes and the target; a router
// stopped cannot be probed and answers SSH again once started; and the
// folder holds what was measured.
func TestLabExperiment(t *testing.T) {
	if !slices.Contains(layer.Names(), "routers") {
		t.Skip("the routers layer is not in this build")
	}
	l := labtest.Up(t, testTopology(), lab.Options{})
	dir := t.TempDir()
	run, err := Start(t.Context(), ForLab(l), Options{Dir: dir, ProbeInterval: 500 * time.Millisecond,
		Pings: 3, PingInterval: 100 * time.Millisecond})
	require.NoError(t, err)
	stopped := false
	defer func() {
		if !stopped {
			assert.NoError(t, run.Stop())
		}
	}()

	tf, ts, fs := [2]string{"tokyo", "frankfurt"}, [2]string{"tokyo", "saopaulo"}, [2]string{"frankfurt", "saopaulo"}
	// waitFor waits for a probe round after since in which ok holds for
	// every pair it is asked of, and returns that round's samples.
	waitFor := func(what string, since time.Duration, ok func(RTTSample) bool) map[[2]string]RTTSample {
		t.Helper()
		var last map[[2]string]RTTSample
		deadline := time.Now().Add(45 * time.Second)
		for time.Now().Before(deadline) {
			last = latestRound(t, dir, since)
			if len(last) == 3 && ok(last[tf]) && ok(last[ts]) && ok(last[fs]) {
				return last
			}
			time.Sleep(200 * time.Millisecond)
		}
		require.FailNow(t, "probes never showed "+what, "last round: %+v", last)
		return nil
	}
	reachable := func(s RTTSample) bool { return s.Received > 0 }

	// A round's median of three pings is never below the target
	// (physics) and above it by the tunnels' and the machine's cost: on the
	// shared two-core machine (load average over 16) single rounds were
	// seen at +37 %, so the test waits for a round within 20 %, which most
	// are, rather than judging the first.
	near := func(target float64) func(RTTSample) bool {
		return func(s RTTSample) bool {
			if s.From != "tokyo" || s.To != "frankfurt" {
				return s.Received > 0
			}
			return s.MedianMs != nil && *s.MedianMs >= target*0.98 && *s.MedianMs <= target*1.2
		}
	}
	before := waitFor("every pair reachable, tokyo–frankfurt near 60 ms", 0, near(60))
	assert.InDelta(t, 60, before[tf].TargetMs, 0.01, "tokyo–frankfurt's target is the topology's 60 ms")

	cutAt := run.Elapsed()
	_, err = run.Do(t.Context(), Event{Kind: Partition, Site: "saopaulo"})
	require.NoError(t, err)
	during := waitFor("São Paulo cut off", cutAt, func(s RTTSample) bool {
		return (s.From == "saopaulo" || s.To == "saopaulo") == (s.Received == 0)
	})
	assert.Contains(t, during[ts].Error, "no replies")

	healAt := run.Elapsed()
	_, err = run.Do(t.Context(), Event{Kind: Heal, Site: "saopaulo"})
	require.NoError(t, err)
	waitFor("São Paulo back", healAt, reachable)

	changeAt := run.Elapsed()
	_, err = run.Do(t.Context(), Event{Kind: SetLink, From: "frankfurt", To: "tokyo", Shape: &wan.Shape{Delay: 100 * time.Millisecond}})
	require.NoError(t, err)
	after := waitFor("tokyo–frankfurt near the new 200 ms", changeAt, near(200))
	assert.InDelta(t, 200, after[tf].TargetMs, 0.01, "the target follows the change")

	_, err = run.Do(t.Context(), Event{Kind: StopMachine, Machine: "rsaopaulo"})
	require.NoError(t, err)
	if r, err := l.Dial(t.Context(), "rsaopaulo"); err == nil {
		_, err = remote.Output(t.Context(), r, "true")
		assert.Error(t, err, "a stopped router answers nothing")
	}
	_, err = run.Do(t.Context(), Event{Kind: StartMachine, Machine: "rsaopaulo"})
	require.NoError(t, err)
	r, err := l.Dial(t.Context(), "rsaopaulo")
	require.NoError(t, err)
	_, err = remote.Output(t.Context(), r, "true")
	assert.NoError(t, err, "a started router answers SSH")

	stopped = true
	require.NoError(t, run.Stop())

	var recs []Record
	require.NoError(t, json.Unmarshal(readFile(t, dir, EventsJSONFile), &recs))
	require.Len(t, recs, 5)
	for _, rec := range recs {
		assert.True(t, rec.OK(), "%s: %s", rec.Event, rec.Error)
	}
	var facts map[string]string
	require.NoError(t, json.Unmarshal(readFile(t, dir, FactsFile), &facts))
	assert.NotEqual(t, unknown, facts["docker"])
	assert.NotEqual(t, unknown, facts["kernel"])
	assert.Contains(t, facts, "relay.seed")
	assert.Contains(t, facts["openvpn"], "OpenVPN 2.", "the routers' OpenVPN, asked of a router")
	var sum Summary
	require.NoError(t, json.Unmarshal(readFile(t, dir, SummaryFile), &sum))
	require.Len(t, sum.Pairs, 3)
	for _, p := range sum.Pairs {
		if p.From == "tokyo" && p.To == "saopaulo" || p.To == "saopaulo" && p.From == "frankfurt" {
			assert.Positive(t, p.LossPct, "%s–%s lost pings during the cut", p.From, p.To)
		}
	}
	assert.FileExists(t, filepath.Join(dir, ReportFile))
	if keep := os.Getenv("EXPERIMENT_KEEP_RESULTS"); keep != "" {
		require.NoError(t, os.CopyFS(keep, os.DirFS(dir)))
		t.Logf("results folder copied to %s", keep)
	}
}

// latestRound returns the last complete probe round started after since,
// by pair.
func latestRound(t *testing.T, dir string, since time.Duration) map[[2]string]RTTSample {
	t.Helper()
	var all []RTTSample
	if err := json.Unmarshal(readFile(t, dir, RTTJSONFile), &all); err != nil {
		return nil
	}
	out := map[[2]string]RTTSample{}
	if len(all) < 3 {
		return out
	}
	round := all[len(all)-3:]
	if round[0].OffsetMs < float64(since.Milliseconds()) {
		return out
	}
	for _, s := range round {
		out[[2]string{s.From, s.To}] = s
	}
	return out
}

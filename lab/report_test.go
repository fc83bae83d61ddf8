package lab

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/plan"
)

// walk is a plan result with the given steps that took d.
func walk(d time.Duration, steps ...plan.StepResult) *plan.Result {
	return &plan.Result{Applied: true, Duration: d, Steps: steps}
}

func TestReportRecordsWalksAndPhases(t *testing.T) {
	t.Parallel()
	var r Report
	r.Add(walk(1500*time.Millisecond,
		plan.StepResult{ID: "machines/up/a", Action: plan.Create, Outcome: plan.Done, Duration: 1200 * time.Millisecond},
		plan.StepResult{ID: "routers/r1", Action: plan.Update, Outcome: plan.Failed, Err: errors.New("commit refused")}))
	r.Add(walk(250*time.Millisecond, plan.StepResult{ID: "lb/haproxy/lb", Outcome: plan.Skipped}))
	r.Add(nil)
	for _, e := range []Event{
		{Phase: PhaseImage, Done: true, Elapsed: 3 * time.Second},
		{Phase: PhaseNodeImage, Done: true, Elapsed: 20 * time.Millisecond, Cached: true},
		{Phase: PhaseConverge}, // started: nothing to record
		{Phase: PhaseConverge, Done: true, Elapsed: time.Hour, Err: errors.New("x")}, // failed: not a time
		{Phase: PhaseNetworks, Done: true, Elapsed: time.Second},                     // not in the table
	} {
		r.Phase(e)
	}
	assert.Equal(t, 1.75, r.ApplySeconds)
	assert.Equal(t, 3.0, r.ImageBuildSeconds)
	assert.Equal(t, 0.02, r.NodeImageSeconds)
	assert.True(t, r.NodeImageCached)
	assert.Zero(t, r.ConvergeSeconds)
	assert.Equal(t, []StepTime{
		{ID: "machines/up/a", Seconds: 1.2, Outcome: "done", Action: "create"},
		{ID: "routers/r1", Outcome: "failed", Action: "update", Error: "commit refused"},
		{ID: "lb/haproxy/lb", Outcome: "skipped"},
	}, r.Steps)
	assert.Equal(t, []string{"routers/r1 failed", "lb/haproxy/lb skipped"}, r.Failed())

	r.Reapplied(walk(time.Second, plan.StepResult{ID: "machines/up/a", Action: plan.NoOp, Outcome: plan.Done},
		plan.StepResult{ID: "routers/r1", Action: plan.Update, Reason: "tunnel config differs", Outcome: plan.Done}))
	assert.Equal(t, 1.0, r.ReapplySeconds)
	assert.Equal(t, []string{"routers/r1: tunnel config differs"}, r.ReapplyChanges)
	assert.Len(t, r.Steps, 3, "a second apply's steps are not the run's")
	r.Reapplied(walk(time.Second, plan.StepResult{ID: "routers/r1", Action: plan.NoOp, Outcome: plan.Done}))
	assert.Empty(t, r.ReapplyChanges, "each second apply is judged alone")
}

// TestReportJSONFieldNames: harnesses and the thesis's --report readers
// depend on these names.
func TestReportJSONFieldNames(t *testing.T) {
	t.Parallel()
	r := Report{Steps: []StepTime{{ID: "esxi/vm/node03", Seconds: 1.5, Outcome: "done"}}, Layers: []string{"machines"},
		Skipped: []SkippedLayer{{Layer: "cluster", Reason: "--cluster=false"}}, LabUpSeconds: 2, TotalSeconds: 12.25}
	data, err := json.Marshal(r)
	require.NoError(t, err)
	assert.JSONEq(t, `{"steps":[{"id":"esxi/vm/node03","seconds":1.5,"outcome":"done"}],
		"skippedLayers":[{"layer":"cluster","reason":"--cluster=false"}],"layers":["machines"],
		"labUpSeconds":2,"applySeconds":0,"convergeSeconds":0,"reapplySeconds":0,"totalSeconds":12.25}`, string(data))
}

func TestReportWriteTiming(t *testing.T) {
	t.Parallel()
	r := Report{LabUpSeconds: 4.5, ApplySeconds: 9, ConvergeSeconds: 1.25, TotalSeconds: 30, Steps: []StepTime{
		{ID: "machines/up/a", Seconds: 1.2, Outcome: "done", Action: "create"},
		{ID: "routers/r1", Outcome: "done", Action: "no-op"},
		{ID: "routers/a-rather-long-step-id", Outcome: "failed", Action: "update"},
	}}
	var b strings.Builder
	require.NoError(t, r.WriteTiming(&b, TimingRow{Name: "(add a node)", Seconds: 20, Note: "   (thesis: 615.4)"}))
	assert.Equal(t, `
Timing:
  step                          outcome   seconds
  machines/up/a                 done        1.200
  routers/a-rather-long-step-id failed      0.000
  (1 more steps found nothing to change)
  (lab up)                                  4.500
  (apply, all walks)                        9.000
  (tunnels converge)                        1.250
  (add a node)                             20.000   (thesis: 615.4)
  total                                    30.000   (wall clock)
`, b.String(), "phases that did not run are left out")

	b.Reset()
	r = Report{NodeImageCached: true}
	require.NoError(t, r.WriteTiming(&b))
	assert.Contains(t, b.String(), "(Kubernetes node image)", "a cached image is shown, though quick")
}

package lab

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/planetstage/planetstage/plan"
)

// Report is a lab run as data a harness keeps: every step the plan walked
// with its outcome and time, the lab's phases that take long, and the
// run's timings. It marshals to JSON with stable field names; a harness
// embeds it in its own report and adds what it measured. Phase records
// the phases (chain it into Options.Progress), Add each walk, Reapplied
// the check that a second apply changes nothing; WriteTiming prints it.
type Report struct {
	Steps []StepTime `json:"steps"`
	// Skipped are layers the run left out on purpose, with why.
	Skipped []SkippedLayer `json:"skippedLayers,omitempty"`
	// Layers are the layers applied.
	Layers []string `json:"layers"`
	// Routers says what ran each router: Linux, the VyOS stand-in (with
	// the version it played) or real VyOS (Lab.Routers).
	Routers           []RouterRun `json:"routers,omitempty"`
	ImageBuildSeconds float64     `json:"imageBuildSeconds,omitempty"`
	NodeImageSeconds  float64     `json:"nodeImageSeconds,omitempty"`
	NodeImageCached   bool        `json:"nodeImageCached,omitempty"`
	LabUpSeconds      float64     `json:"labUpSeconds"`
	// ApplySeconds adds up every walk given to Add.
	ApplySeconds    float64 `json:"applySeconds"`
	ConvergeSeconds float64 `json:"convergeSeconds"`
	ReapplySeconds  float64 `json:"reapplySeconds"`
	// ReapplyChanges are the steps a second apply changed, "ID: reason";
	// an idempotent plan leaves it empty.
	ReapplyChanges []string `json:"reapplyChanges,omitempty"`
	TotalSeconds   float64  `json:"totalSeconds"`
}

// StepTime is one step of a walk as Report keeps it.
type StepTime struct {
	ID      string  `json:"id"`
	Seconds float64 `json:"seconds"`
	Outcome string  `json:"outcome"`
	Action  string  `json:"action,omitempty"`
	Error   string  `json:"error,omitempty"`
}

// SkippedLayer is a layer a run left out, and why.
type SkippedLayer struct {
	Layer  string `json:"layer"`
	Reason string `json:"reason"`
}

// TimingRow is a line WriteTiming adds for what a harness timed itself.
type TimingRow struct {
	Name    string
	Seconds float64
	// Note follows the seconds, e.g. what the thesis measured.
	Note string
}

// seconds is d in seconds, to the millisecond.
func seconds(d time.Duration) float64 { return d.Round(time.Millisecond).Seconds() }

// Add records a walk's steps and adds its time to ApplySeconds; nil (a
// walk that never started) records nothing.
func (r *Report) Add(res *plan.Result) {
	if res == nil {
		return
	}
	r.ApplySeconds = seconds(time.Duration(r.ApplySeconds*float64(time.Second)) + res.Duration)
	for _, s := range res.Steps {
		st := StepTime{ID: s.ID, Seconds: seconds(s.Duration), Outcome: string(s.Outcome), Action: string(s.Action)}
		if s.Err != nil {
			st.Error = s.Err.Error()
		}
		r.Steps = append(r.Steps, st)
	}
}

// Phase records the time of the phases the timing table shows (the
// images, the tunnels' convergence) when they end well.
func (r *Report) Phase(e Event) {
	if !e.Done || e.Err != nil {
		return
	}
	switch e.Phase {
	case PhaseImage:
		r.ImageBuildSeconds = seconds(e.Elapsed)
	case PhaseNodeImage:
		r.NodeImageSeconds, r.NodeImageCached = seconds(e.Elapsed), e.Cached
	case PhaseConverge:
		r.ConvergeSeconds = seconds(e.Elapsed)
	}
}

// Reapplied records a second apply of the unchanged testbed: its time,
// and each step it changed, which it should not have. It is not added to
// Steps: the first apply's steps are the run's.
func (r *Report) Reapplied(res *plan.Result) {
	r.ReapplySeconds = seconds(res.Duration)
	r.ReapplyChanges = nil
	for _, s := range res.Steps {
		if s.Action != plan.NoOp {
			r.ReapplyChanges = append(r.ReapplyChanges, s.ID+": "+s.Reason)
		}
	}
}

// Failed lists the steps that did not end done, as "ID outcome".
func (r *Report) Failed() []string {
	var out []string
	for _, s := range r.Steps {
		if s.Outcome != string(plan.Done) {
			out = append(out, s.ID+" "+s.Outcome)
		}
	}
	return out
}

// WriteTiming writes the run's timing table: the steps that did something
// (the others are counted; Steps has them all), the lab's phases that ran,
// the walks, then rows, then the total.
func (r *Report) WriteTiming(w io.Writer, rows ...TimingRow) error {
	lab := []TimingRow{
		{Name: "(lab image build)", Seconds: r.ImageBuildSeconds},
		{Name: "(Kubernetes node image)", Seconds: r.NodeImageSeconds},
		{Name: "(lab up)", Seconds: r.LabUpSeconds},
		{Name: "(apply, all walks)", Seconds: r.ApplySeconds},
		{Name: "(tunnels converge)", Seconds: r.ConvergeSeconds},
		{Name: "(second apply, no-op)", Seconds: r.ReapplySeconds},
	}
	width := len("step")
	for _, s := range r.Steps {
		width = max(width, len(s.ID))
	}
	for _, t := range append(lab, rows...) {
		width = max(width, len(t.Name))
	}
	var b strings.Builder
	row := func(name, outcome string, secs float64, note string) {
		fmt.Fprintf(&b, "  %-*s %-8s %8.3f%s\n", width, name, outcome, secs, note)
	}
	fmt.Fprintf(&b, "\nTiming:\n  %-*s %-8s %8s\n", width, "step", "outcome", "seconds")
	unchanged := 0
	for _, s := range r.Steps {
		if s.Action == string(plan.NoOp) && s.Outcome == string(plan.Done) {
			unchanged++
			continue
		}
		row(s.ID, s.Outcome, s.Seconds, "")
	}
	if unchanged > 0 {
		fmt.Fprintf(&b, "  (%d more steps found nothing to change)\n", unchanged)
	}
	for _, t := range lab {
		if t.Seconds > 0 || t.Name == "(Kubernetes node image)" && r.NodeImageCached {
			row(t.Name, "", t.Seconds, "")
		}
	}
	for _, t := range rows {
		row(t.Name, "", t.Seconds, t.Note)
	}
	row("total", "", r.TotalSeconds, "   (wall clock)")
	_, err := io.WriteString(w, b.String())
	return err
}

package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText writes the result as a person reads a plan: one line per step,
// "+ create", "~ update", "= unchanged" or "- delete", the target and the
// reason; failed and skipped steps say so and why.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, s := range r.Steps {
		switch s.Outcome {
		case Failed:
			fmt.Fprintf(&b, "! failed    %s: %v\n", s.Target, s.Err)
		case Skipped, NotRun:
			fmt.Fprintf(&b, "? %-9s %s: %v\n", s.Outcome, s.Target, s.Err)
		default:
			verb := string(s.Action)
			if s.Action == NoOp {
				verb = "unchanged"
			}
			line := fmt.Sprintf("%s %-9s %s", s.Action.symbol(), verb, s.Target)
			if s.Reason != "" {
				line += " (" + s.Reason + ")"
			}
			b.WriteString(line + "\n")
		}
	}
	b.WriteString(r.String() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

type jsonStep struct {
	ID      string   `json:"id"`
	Action  Action   `json:"action"`
	Layer   string   `json:"layer"`
	Target  string   `json:"target"`
	Deps    []string `json:"deps"`
	Reason  string   `json:"reason"`
	Outcome Outcome  `json:"outcome"`
	Error   string   `json:"error,omitempty"`
}

// WriteJSON writes the plan as
// {"steps":[{"id","action","layer","target","deps":[…],"reason","outcome"}]}.
func (r *Result) WriteJSON(w io.Writer) error {
	out := struct {
		Steps []jsonStep `json:"steps"`
	}{Steps: make([]jsonStep, 0, len(r.Steps))}
	for _, s := range r.Steps {
		deps := s.Deps
		if deps == nil {
			deps = []string{}
		}
		out.Steps = append(out.Steps, jsonStep{
			ID: s.ID, Action: s.Action, Layer: s.Layer, Target: s.Target,
			Deps: deps, Reason: s.Reason, Outcome: s.Outcome, Error: errString(s.Err),
		})
	}
	return writeIndented(w, out)
}

// TimingEntry is one row of a timing report: the thesis's table 5.1 at step
// granularity.
type TimingEntry struct {
	Step    string    `json:"step"`
	Layer   string    `json:"layer"`
	Action  Action    `json:"action"`
	Target  string    `json:"target"`
	Start   time.Time `json:"start"`
	Seconds float64   `json:"seconds"`
	Outcome Outcome   `json:"outcome"`
	Error   string    `json:"error,omitempty"`
}

// TimingReport is a walk's timing, as data a harness can keep.
type TimingReport struct {
	Start        time.Time     `json:"start"`
	TotalSeconds float64       `json:"totalSeconds"`
	Steps        []TimingEntry `json:"steps"`
}

// Timing returns the per-step timing report of r.
func (r *Result) Timing() TimingReport {
	rep := TimingReport{Start: r.Start, TotalSeconds: r.Duration.Seconds(), Steps: []TimingEntry{}}
	for _, s := range r.Steps {
		rep.Steps = append(rep.Steps, TimingEntry{
			Step: s.ID, Layer: s.Layer, Action: s.Action, Target: s.Target,
			Start: s.Start, Seconds: s.Duration.Seconds(), Outcome: s.Outcome, Error: errString(s.Err),
		})
	}
	return rep
}

// WriteTiming writes r.Timing() as JSON.
func (r *Result) WriteTiming(w io.Writer) error { return writeIndented(w, r.Timing()) }

// WriteDOT writes the steps and their dependencies as a Graphviz digraph,
// edges pointing from a step to what it depends on, as Terraform draws them.
func (r *Result) WriteDOT(w io.Writer) error {
	var b strings.Builder
	b.WriteString("digraph plan {\n\trankdir = \"RL\";\n\tnode [shape = box];\n")
	for _, s := range r.Steps {
		fmt.Fprintf(&b, "\t%q [label = %q];\n", s.ID, s.Action.symbol()+" "+s.ID)
	}
	for _, s := range r.Steps {
		for _, d := range s.Deps {
			fmt.Fprintf(&b, "\t%q -> %q;\n", s.ID, d)
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMermaid writes the same graph as a Mermaid flowchart.
func (r *Result) WriteMermaid(w io.Writer) error {
	var b strings.Builder
	b.WriteString("flowchart RL\n")
	ids := make(map[string]string, len(r.Steps))
	for i, s := range r.Steps {
		ids[s.ID] = fmt.Sprintf("s%d", i)
		fmt.Fprintf(&b, "\t%s[%q]\n", ids[s.ID], s.Action.symbol()+" "+s.ID)
	}
	for _, s := range r.Steps {
		for _, d := range s.Deps {
			fmt.Fprintf(&b, "\t%s --> %s\n", ids[s.ID], ids[d])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

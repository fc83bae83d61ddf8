package plan

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Outcome is how a step's walk ended.
type Outcome string

// The outcomes of a step.
const (
	// Done: inspected, and applied when the walk applies and there was a
	// change.
	Done Outcome = "done"
	// Failed: Inspect or Apply returned an error.
	Failed Outcome = "failed"
	// Skipped: a dependency failed or was skipped; the step did not run.
	Skipped Outcome = "skipped"
	// NotRun: the walk was cancelled before the step began.
	NotRun Outcome = "not-run"
)

// StepResult is what happened to one step.
type StepResult struct {
	ID     string
	Layer  string
	Target string
	Deps   []string
	// Action and Reason are what Inspect reported; empty when it did not run.
	Action Action
	Reason string
	// Outcome, start time and duration of the step (zero when it never
	// started).
	Outcome  Outcome
	Start    time.Time
	Duration time.Duration
	// Err is why the step failed, was skipped or did not run.
	Err error
}

// EventKind tells a Hook what happened.
type EventKind string

// The events of a walk.
const (
	// Started: the step's Inspect is about to run.
	Started EventKind = "started"
	// Finished: the step is done or failed; Step.Duration is set.
	Finished EventKind = "finished"
	// Passed: the step was skipped or not run; it never started.
	Passed EventKind = "passed"
)

// Event is one progress report of a walk.
type Event struct {
	Kind EventKind
	Step StepResult
}

// Hook receives a walk's events. The walk calls it from many goroutines but
// never concurrently, so an implementation needs no locking.
type Hook interface {
	OnEvent(Event)
}

// HookFunc adapts a function to a Hook.
type HookFunc func(Event)

// OnEvent implements Hook.
func (f HookFunc) OnEvent(e Event) { f(e) }

// Result is the outcome of a walk: every step in dependency order.
type Result struct {
	// Applied is true for an apply walk, false for a plan.
	Applied  bool
	Start    time.Time
	Duration time.Duration
	Steps    []StepResult
}

// Err joins the error of every failed step, naming the step, and of
// skipped steps' root causes. When the walk was cancelled, the returned
// error wraps the context's error and names the steps that did not run.
func (r *Result) Err() error {
	var errs, cancelled []error
	var notRun []string
	for _, s := range r.Steps {
		switch s.Outcome {
		case Failed:
			errs = append(errs, fmt.Errorf("step %s: %w", s.ID, s.Err))
		case NotRun:
			notRun = append(notRun, s.ID)
			if s.Err != nil && len(cancelled) == 0 {
				cancelled = append(cancelled, s.Err)
			}
		}
	}
	if len(notRun) > 0 {
		cause := context.Canceled
		if len(cancelled) > 0 && errors.Is(cancelled[0], context.DeadlineExceeded) {
			cause = context.DeadlineExceeded
		}
		// Cancellation comes first: it is why the rest did not happen.
		errs = append([]error{fmt.Errorf("walk stopped, %d steps not run (%s): %w",
			len(notRun), abbreviate(notRun, 5), cause)}, errs...)
	}
	return errors.Join(errs...)
}

// Summary counts a result's steps by what they did.
type Summary struct {
	Created, Updated, Deleted, Unchanged, Failed, Skipped, NotRun int
}

// Summary counts the steps of r.
func (r *Result) Summary() Summary {
	var s Summary
	for _, st := range r.Steps {
		switch st.Outcome {
		case Failed:
			s.Failed++
			continue
		case Skipped:
			s.Skipped++
			continue
		case NotRun:
			s.NotRun++
			continue
		}
		switch st.Action {
		case Create:
			s.Created++
		case Update:
			s.Updated++
		case Delete:
			s.Deleted++
		default:
			s.Unchanged++
		}
	}
	return s
}

// String is the one summary line a CLI ends with:
// "apply: 3 created, 0 updated, 8 unchanged, 0 failed, 0 skipped in 1.2s".
func (r *Result) String() string {
	verb := "plan"
	if r.Applied {
		verb = "apply"
	}
	s := r.Summary()
	line := fmt.Sprintf("%s: %d created, %d updated, ", verb, s.Created, s.Updated)
	if s.Deleted > 0 {
		line += fmt.Sprintf("%d deleted, ", s.Deleted)
	}
	line += fmt.Sprintf("%d unchanged, %d failed, %d skipped", s.Unchanged, s.Failed, s.Skipped)
	if s.NotRun > 0 {
		line += fmt.Sprintf(", %d not run", s.NotRun)
	}
	return line + fmt.Sprintf(" in %.1fs", r.Duration.Seconds())
}

func abbreviate(ids []string, n int) string {
	if len(ids) <= n {
		return fmt.Sprint(ids)
	}
	return fmt.Sprintf("%v and %d more", ids[:n], len(ids)-n)
}

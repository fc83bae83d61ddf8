package k8snode

import (
	"time"

	"github.com/planetstage/planetstage/plan"
)

// stepPrefix starts the ID of every event Build sends to Options.Hook.
const stepPrefix = "node-image/"

// step runs fn as one step of the build as Options.Hook sees it: a Started
// event, then a Finished one with the outcome and duration.
func (b *builder) step(id, target string, fn func() error) error {
	if b.opts.Hook == nil {
		return fn()
	}
	s := plan.StepResult{ID: stepPrefix + id, Layer: "node-image", Target: target, Action: plan.Create, Start: time.Now()}
	b.onEvent(plan.Event{Kind: plan.Started, Step: s})
	err := fn()
	s.Duration, s.Outcome, s.Err = time.Since(s.Start), plan.Done, err
	if err != nil {
		s.Outcome = plan.Failed
	}
	b.onEvent(plan.Event{Kind: plan.Finished, Step: s})
	return err
}

// onEvent passes e to Options.Hook, one event at a time: stages built at
// once report from their own goroutines.
func (b *builder) onEvent(e plan.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.opts.Hook.OnEvent(e)
}

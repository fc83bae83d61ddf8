package plan

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// DefaultParallelism bounds concurrent steps when Options.Parallelism is 0.
// Steps mostly wait on remote hosts, so the bound is about not flooding a
// hypervisor or an SSH server, not about local cores.
const DefaultParallelism = 10

// Options control a walk.
type Options struct {
	// Apply makes the walk change things: each step is inspected and, when
	// its action is not NoOp, applied. Without it the walk only inspects.
	Apply bool
	// Parallelism bounds how many steps run at once; 0 means
	// DefaultParallelism.
	Parallelism int
	// Hook receives progress events; nil means none.
	Hook Hook
}

// Walk validates g and walks it. The result holds one StepResult per node,
// in dependency order, even when the walk fails; the error joins every step
// error (each naming its step), and wraps ctx's error when the walk was
// cancelled. An invalid graph returns an error and no result: nothing ran.
func Walk(ctx context.Context, g *Graph, opts Options) (*Result, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	parallelism := opts.Parallelism
	if parallelism <= 0 {
		parallelism = DefaultParallelism
	}
	w := &walker{
		opts:    opts,
		sem:     make(chan struct{}, parallelism),
		results: make(map[string]*StepResult, g.Len()),
		done:    make(map[string]chan struct{}, g.Len()),
	}
	nodes := g.Sorted()
	for _, n := range nodes {
		w.done[n.ID] = make(chan struct{})
		w.results[n.ID] = &StepResult{ID: n.ID, Layer: n.Layer, Target: n.Target, Deps: n.Deps}
	}
	start := time.Now()
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(w.done[n.ID])
			w.visit(ctx, n)
		}()
	}
	wg.Wait()

	res := &Result{Applied: opts.Apply, Start: start, Duration: time.Since(start)}
	for _, n := range nodes {
		res.Steps = append(res.Steps, *w.results[n.ID])
	}
	return res, res.Err()
}

type walker struct {
	opts    Options
	sem     chan struct{}
	hookMu  sync.Mutex
	results map[string]*StepResult
	done    map[string]chan struct{}
}

func (w *walker) visit(ctx context.Context, n Node) {
	r := w.results[n.ID]
	pending := false
	for _, dep := range n.Deps {
		select {
		case <-w.done[dep]:
		case <-ctx.Done():
			w.finish(r, NotRun, fmt.Errorf("not run: %w", ctx.Err()))
			return
		}
		if ctx.Err() != nil {
			// Cancelled: this step did not run, whatever its dependency did.
			w.finish(r, NotRun, fmt.Errorf("not run: %w", ctx.Err()))
			return
		}
		// A dependency's result is written before its done channel closes.
		d := w.results[dep]
		switch d.Outcome {
		case Failed, Skipped:
			w.finish(r, Skipped, fmt.Errorf("skipped: dependency %q %s", dep, d.Outcome))
			return
		case NotRun:
			w.finish(r, NotRun, d.Err)
			return
		}
		if d.Action == Create || d.Action == Update || d.Action == Delete {
			pending = true
		}
	}
	select {
	case w.sem <- struct{}{}:
		defer func() { <-w.sem }()
	case <-ctx.Done():
		w.finish(r, NotRun, fmt.Errorf("not run: %w", ctx.Err()))
		return
	}
	if ctx.Err() != nil {
		w.finish(r, NotRun, fmt.Errorf("not run: %w", ctx.Err()))
		return
	}

	r.Start = time.Now()
	w.emit(Event{Kind: Started, Step: *r})
	if !w.opts.Apply && pending {
		ctx = context.WithValue(ctx, pendingKey{}, true)
	}
	change, err := safely(func() (Change, error) { return n.Step.Inspect(ctx) })
	if err != nil {
		w.finish(r, Failed, fmt.Errorf("inspect: %w", err))
		return
	}
	r.Action, r.Reason = change.Action, change.Reason
	if w.opts.Apply && change.Action != NoOp {
		_, err = safely(func() (Change, error) { return Change{}, n.Step.Apply(ctx, change) })
		if err != nil {
			w.finish(r, Failed, err)
			return
		}
	}
	w.finish(r, Done, nil)
}

func (w *walker) finish(r *StepResult, o Outcome, err error) {
	if !r.Start.IsZero() {
		r.Duration = time.Since(r.Start)
	}
	r.Outcome, r.Err = o, err
	kind := Finished
	if o == Skipped || o == NotRun {
		kind = Passed
	}
	w.emit(Event{Kind: kind, Step: *r})
}

// emit serialises hook calls, so a Hook needs no locking of its own.
func (w *walker) emit(e Event) {
	if w.opts.Hook == nil {
		return
	}
	w.hookMu.Lock()
	defer w.hookMu.Unlock()
	w.opts.Hook.OnEvent(e)
}

// safely turns a panicking step into a failed one, so one bad step cannot
// take down a walk that others are halfway through.
func safely(f func() (Change, error)) (c Change, err error) {
	defer func() {
		if p := recover(); p != nil {
			stack := strings.TrimSpace(string(debug.Stack()))
			err = fmt.Errorf("panic: %v\n%s", p, stack)
		}
	}()
	return f()
}

type pendingKey struct{}

// Pending reports whether a step being inspected during a plan (not an
// apply) depends on a step that would change something. Its real state is
// then not settled yet — the machine it configures may not exist — so its
// Inspect should report the change it expects rather than fail to reach it.
func Pending(ctx context.Context) bool {
	p, _ := ctx.Value(pendingKey{}).(bool)
	return p
}

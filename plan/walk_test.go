package plan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testStep records what the walk did to it. Its behaviour is set per test.
type testStep struct {
	action   Action
	inspect  error
	apply    error
	block    chan struct{} // Apply waits on it (or ctx) when non-nil
	started  atomic.Int32
	applied  atomic.Int32
	onApply  func()
	panicked bool
}

func (s *testStep) Inspect(ctx context.Context) (Change, error) {
	s.started.Add(1)
	if s.inspect != nil {
		return Change{}, s.inspect
	}
	a := s.action
	if a == "" {
		a = Create
	}
	return Change{Action: a, Reason: "test"}, nil
}

func (s *testStep) Apply(ctx context.Context, c Change) error {
	s.applied.Add(1)
	if s.panicked {
		panic("boom")
	}
	if s.onApply != nil {
		s.onApply()
	}
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.apply
}

type spec struct {
	id   string
	deps []string
	step *testStep
}

func graphOf(t testing.TB, specs ...spec) *Graph {
	t.Helper()
	g := new(Graph)
	for _, s := range specs {
		if s.step == nil {
			s.step = &testStep{}
		}
		require.NoError(t, g.Add(Node{ID: s.id, Layer: "test", Target: "thing " + s.id, Deps: s.deps, Step: s.step}))
	}
	return g
}

func outcomes(r *Result) map[string]Outcome {
	out := make(map[string]Outcome, len(r.Steps))
	for _, s := range r.Steps {
		out[s.ID] = s.Outcome
	}
	return out
}

func TestWalkSemantics(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("boom")
	tests := []struct {
		name     string
		specs    func() []spec
		apply    bool
		want     map[string]Outcome
		wantErrs []string
	}{
		{
			name: "diamond all succeed",
			specs: func() []spec {
				return []spec{{id: "a"}, {id: "b", deps: []string{"a"}}, {id: "c", deps: []string{"a"}}, {id: "d", deps: []string{"b", "c"}}}
			},
			apply: true,
			want:  map[string]Outcome{"a": Done, "b": Done, "c": Done, "d": Done},
		},
		{
			name: "failed apply skips dependants, independent branch goes on",
			specs: func() []spec {
				return []spec{
					{id: "a", step: &testStep{apply: errBoom}},
					{id: "b", deps: []string{"a"}},
					{id: "c", deps: []string{"b"}},
					{id: "x"},
					{id: "y", deps: []string{"x"}},
				}
			},
			apply:    true,
			want:     map[string]Outcome{"a": Failed, "b": Skipped, "c": Skipped, "x": Done, "y": Done},
			wantErrs: []string{"step a: boom"},
		},
		{
			name: "failed inspect fails the step in a plan too",
			specs: func() []spec {
				return []spec{{id: "a", step: &testStep{inspect: errBoom}}, {id: "b", deps: []string{"a"}}}
			},
			want:     map[string]Outcome{"a": Failed, "b": Skipped},
			wantErrs: []string{"step a: inspect: boom"},
		},
		{
			name: "every failure is returned with its step",
			specs: func() []spec {
				return []spec{{id: "a", step: &testStep{apply: errBoom}}, {id: "b", step: &testStep{apply: errors.New("bang")}}}
			},
			apply:    true,
			want:     map[string]Outcome{"a": Failed, "b": Failed},
			wantErrs: []string{"step a: boom", "step b: bang"},
		},
		{
			name: "a panicking step fails alone",
			specs: func() []spec {
				return []spec{{id: "a", step: &testStep{panicked: true}}, {id: "b"}}
			},
			apply:    true,
			want:     map[string]Outcome{"a": Failed, "b": Done},
			wantErrs: []string{"step a: panic: boom"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Loop to flush out ordering bugs under -race, as Terraform's
			// walker tests do.
			for range 50 {
				res, err := Walk(context.Background(), graphOf(t, tc.specs()...), Options{Apply: tc.apply, Parallelism: 3})
				require.NotNil(t, res)
				assert.Equal(t, tc.want, outcomes(res))
				if len(tc.wantErrs) == 0 {
					require.NoError(t, err)
					continue
				}
				require.Error(t, err)
				for _, want := range tc.wantErrs {
					assert.Contains(t, err.Error(), want)
				}
			}
		})
	}
}

func TestWalkRunsEachStepAfterItsDependencies(t *testing.T) {
	t.Parallel()
	for range 50 {
		var mu sync.Mutex
		var order []string
		rec := func(id string) *testStep {
			return &testStep{onApply: func() { mu.Lock(); order = append(order, id); mu.Unlock() }}
		}
		specs := []spec{
			{id: "net", step: rec("net")},
			{id: "vm1", deps: []string{"net"}, step: rec("vm1")},
			{id: "vm2", deps: []string{"net"}, step: rec("vm2")},
			{id: "router", deps: []string{"vm1", "vm2"}, step: rec("router")},
			{id: "cluster", deps: []string{"router"}, step: rec("cluster")},
		}
		_, err := Walk(context.Background(), graphOf(t, specs...), Options{Apply: true})
		require.NoError(t, err)
		pos := func(id string) int { return slices.Index(order, id) }
		require.Len(t, order, 5)
		assert.Less(t, pos("net"), pos("vm1"))
		assert.Less(t, pos("net"), pos("vm2"))
		assert.Less(t, pos("vm1"), pos("router"))
		assert.Less(t, pos("vm2"), pos("router"))
		assert.Less(t, pos("router"), pos("cluster"))
	}
}

func TestWalkBoundsParallelism(t *testing.T) {
	t.Parallel()
	var running, peak atomic.Int32
	release := make(chan struct{})
	var specs []spec
	for i := range 20 {
		specs = append(specs, spec{id: fmt.Sprint(i), step: &testStep{onApply: func() {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			<-release
			running.Add(-1)
		}}})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := Walk(context.Background(), graphOf(t, specs...), Options{Apply: true, Parallelism: 4})
		assert.NoError(t, err)
	}()
	require.Eventually(t, func() bool { return running.Load() == 4 }, 5*time.Second, time.Millisecond)
	close(release)
	<-done
	assert.Equal(t, int32(4), peak.Load())
}

func TestWalkPlanInspectsOnly(t *testing.T) {
	t.Parallel()
	a, b := &testStep{action: Create}, &testStep{action: NoOp}
	res, err := Walk(context.Background(), graphOf(t, spec{id: "a", step: a}, spec{id: "b", deps: []string{"a"}, step: b}), Options{})
	require.NoError(t, err)
	assert.Equal(t, int32(1), a.started.Load())
	assert.Equal(t, int32(0), a.applied.Load(), "a plan must not apply")
	assert.Equal(t, Summary{Created: 1, Unchanged: 1}, res.Summary())
	assert.Equal(t, "plan: 1 created, 0 updated, 1 unchanged, 0 failed, 0 skipped", strings.SplitN(res.String(), " in ", 2)[0])
}

func TestWalkAppliesOnlyChanges(t *testing.T) {
	t.Parallel()
	a, b := &testStep{action: NoOp}, &testStep{action: Update}
	res, err := Walk(context.Background(), graphOf(t, spec{id: "a", step: a}, spec{id: "b", step: b}), Options{Apply: true})
	require.NoError(t, err)
	assert.Equal(t, int32(0), a.applied.Load(), "a no-op step is not applied")
	assert.Equal(t, int32(1), b.applied.Load())
	assert.Equal(t, Summary{Updated: 1, Unchanged: 1}, res.Summary())
}

func TestWalkPendingMarksStepsBehindAChange(t *testing.T) {
	t.Parallel()
	var sawPending, sawSettled atomic.Bool
	probe := func(into *atomic.Bool) Step {
		return Funcs{
			InspectFunc: func(ctx context.Context) (Change, error) { into.Store(Pending(ctx)); return Change{Action: NoOp}, nil },
			ApplyFunc:   func(context.Context, Change) error { return nil },
		}
	}
	g := new(Graph)
	require.NoError(t, g.Add(Node{ID: "vm", Step: &testStep{action: Create}}))
	require.NoError(t, g.Add(Node{ID: "router", Deps: []string{"vm"}, Step: probe(&sawPending)}))
	require.NoError(t, g.Add(Node{ID: "other", Step: probe(&sawSettled)}))
	_, err := Walk(context.Background(), g, Options{})
	require.NoError(t, err)
	assert.True(t, sawPending.Load(), "a step behind a create sees Pending in a plan")
	assert.False(t, sawSettled.Load())
}

func TestWalkCancelStopsPromptlyAndNamesStepsNotRun(t *testing.T) {
	t.Parallel()
	for range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		started := make(chan struct{})
		long := &testStep{block: make(chan struct{}), onApply: func() { close(started) }}
		g := graphOf(t,
			spec{id: "long", step: long},
			spec{id: "after", deps: []string{"long"}},
			spec{id: "after2", deps: []string{"after"}},
		)
		done := make(chan struct{})
		var res *Result
		var err error
		go func() { defer close(done); res, err = Walk(ctx, g, Options{Apply: true}) }()
		<-started
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("walk did not stop after cancel")
		}
		require.ErrorIs(t, err, context.Canceled)
		assert.Contains(t, err.Error(), "after")
		assert.Equal(t, map[string]Outcome{"long": Failed, "after": NotRun, "after2": NotRun}, outcomes(res))
	}
}

func TestWalkHookSeesEveryStep(t *testing.T) {
	t.Parallel()
	var events []Event // no lock: the walk serialises hook calls (-race checks it)
	hook := HookFunc(func(e Event) { events = append(events, e) })
	g := graphOf(t, spec{id: "a", step: &testStep{apply: errors.New("no")}}, spec{id: "b", deps: []string{"a"}}, spec{id: "c"})
	_, err := Walk(context.Background(), g, Options{Apply: true, Hook: hook})
	require.Error(t, err)
	got := map[string][]EventKind{}
	for _, e := range events {
		got[e.Step.ID] = append(got[e.Step.ID], e.Kind)
		if e.Kind == Finished {
			assert.Positive(t, e.Step.Duration, "finished events carry a duration")
		}
	}
	assert.Equal(t, map[string][]EventKind{
		"a": {Started, Finished},
		"b": {Passed},
		"c": {Started, Finished},
	}, got)
}

func TestGraphRejectsBadGraphsBeforeWalking(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		specs []spec
		want  string
	}{
		{"cycle", []spec{{id: "a", deps: []string{"c"}}, {id: "b", deps: []string{"a"}}, {id: "c", deps: []string{"b"}}}, "cycle: a -> c -> b -> a"},
		{"self", []spec{{id: "a", deps: []string{"a"}}}, "cycle: a -> a"},
		{"unknown dependency", []spec{{id: "a", deps: []string{"ghost"}}}, `node "a" depends on unknown node "ghost"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			steps := make([]*testStep, len(tc.specs))
			for i := range tc.specs {
				steps[i] = &testStep{}
				tc.specs[i].step = steps[i]
			}
			res, err := Walk(context.Background(), graphOf(t, tc.specs...), Options{Apply: true})
			require.ErrorContains(t, err, tc.want)
			assert.Nil(t, res)
			for _, s := range steps {
				assert.Zero(t, s.started.Load(), "nothing runs on an invalid graph")
			}
		})
	}
	g := new(Graph)
	require.NoError(t, g.Add(Node{ID: "a", Step: &testStep{}}))
	assert.ErrorContains(t, g.Add(Node{ID: "a", Step: &testStep{}}), "duplicate")
	assert.ErrorContains(t, g.Add(Node{ID: "", Step: &testStep{}}), "empty ID")
	assert.ErrorContains(t, g.Add(Node{ID: "b"}), "no step")
}

func TestFilterDropsDependenciesOnRemovedNodes(t *testing.T) {
	t.Parallel()
	g := new(Graph)
	require.NoError(t, g.Add(Node{ID: "esxi/vm", Layer: "esxi", Step: &testStep{}}))
	require.NoError(t, g.Add(Node{ID: "routers/r1", Layer: "routers", Deps: []string{"esxi/vm"}, Step: &testStep{}}))
	f := g.Filter(func(n Node) bool { return n.Layer == "routers" })
	require.NoError(t, f.Validate())
	n, ok := f.Node("routers/r1")
	require.True(t, ok)
	assert.Empty(t, n.Deps)
	assert.Equal(t, 1, f.Len())
	assert.Equal(t, 2, g.Len(), "the original graph is untouched")
}

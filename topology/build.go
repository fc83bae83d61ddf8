package topology

import (
	"errors"
	"fmt"
	"slices"

	"github.com/planetstage/planetstage/plan"
)

// Plan validates t and builds the graph of steps that brings the testbed
// up: every layer's steps, or only those of the layers named (steps of other
// layers are taken as done). Nothing is touched: building a plan only reads
// the topology and env.State.
func Plan(t *Topology, env *Env, only ...string) (*plan.Graph, error) {
	return build(t, env, only, func(l Layer) func(*Topology, *Env) ([]plan.Node, error) { return l.Steps })
}

// DestroyPlan builds the graph of steps that removes what the layers
// created, and nothing else.
func DestroyPlan(t *Topology, env *Env, only ...string) (*plan.Graph, error) {
	return build(t, env, only, func(l Layer) func(*Topology, *Env) ([]plan.Node, error) { return l.Destroy })
}

func build(t *Topology, env *Env, only []string, steps func(Layer) func(*Topology, *Env) ([]plan.Node, error)) (*plan.Graph, error) {
	if err := CheckLayers(only); err != nil {
		return nil, err
	}
	if env == nil || env.State == nil {
		return nil, errors.New("topology: plan needs an Env with a State")
	}
	t = t.Clone()
	t.SetDefaults()
	if ps := t.validate(); len(ps) > 0 {
		return nil, ps
	}
	t = t.indexed()
	env = withLatency(t, env)
	g := new(plan.Graph)
	var errs []error
	for _, l := range layers {
		f := steps(l)
		if f == nil {
			continue
		}
		nodes, err := f(t, env)
		if err != nil {
			errs = append(errs, fmt.Errorf("layer %s: %w", l.Name, err))
			continue
		}
		for _, n := range nodes {
			n.Layer = l.Name
			if err := g.Add(n); err != nil {
				errs = append(errs, fmt.Errorf("layer %s: %w", l.Name, err))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(only) > 0 {
		g = g.Filter(func(n plan.Node) bool { return slices.Contains(only, n.Layer) })
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g, nil
}

// Render returns what every layer (or those named) would apply to machine.
func Render(t *Topology, env *Env, machine string, only ...string) ([]Artifact, error) {
	if err := CheckLayers(only); err != nil {
		return nil, err
	}
	t = t.Clone()
	t.SetDefaults()
	if ps := t.validate(); len(ps) > 0 {
		return nil, ps
	}
	if _, ok := t.Machine(machine); !ok {
		return nil, fmt.Errorf("topology %s has no machine %q", t.Name, machine)
	}
	env = withLatency(t, env)
	var out []Artifact
	for _, l := range layers {
		if l.Render == nil || (len(only) > 0 && !slices.Contains(only, l.Name)) {
			continue
		}
		arts, err := l.Render(t, env, machine)
		if err != nil {
			return nil, fmt.Errorf("layer %s: render %s: %w", l.Name, machine, err)
		}
		for i := range arts {
			arts[i].Layer, arts[i].Machine = l.Name, machine
		}
		out = append(out, arts...)
	}
	return out, nil
}

// withLatency returns env with the topology's latency model when the
// caller set none (a copy: the caller's Env is not changed).
func withLatency(t *Topology, env *Env) *Env {
	if env.Latency != nil {
		return env
	}
	m := t.LatencyModel()
	if m == nil {
		return env
	}
	e := *env
	e.Latency = m
	return &e
}

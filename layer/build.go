package layer

import (
	"errors"
	"fmt"
	"slices"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// Plan validates t and builds the graph of steps that brings the testbed
// up: every layer's steps, or only those of the layers named (steps of other
// layers are taken as done). Nothing is touched: building a plan only reads
// the topology and env.State. Walking it without applying still makes the
// key material its steps compare with (VPN keys, cluster CAs) when the
// state lacks it: give such a walk an Env whose State is env.State.DryRun()
// and nothing is written.
func (s *Set) Plan(t *topology.Topology, env *Env, only ...string) (*plan.Graph, error) {
	return s.build(t, env, only, func(l Layer) stepsFunc { return l.Steps })
}

// DestroyPlan builds the graph of steps that removes what the layers
// created, and nothing else.
func (s *Set) DestroyPlan(t *topology.Topology, env *Env, only ...string) (*plan.Graph, error) {
	return s.build(t, env, only, func(l Layer) stepsFunc { return l.Destroy })
}

// Plan is Default().Plan.
func Plan(t *topology.Topology, env *Env, only ...string) (*plan.Graph, error) {
	return Default().Plan(t, env, only...)
}

// DestroyPlan is Default().DestroyPlan.
func DestroyPlan(t *topology.Topology, env *Env, only ...string) (*plan.Graph, error) {
	return Default().DestroyPlan(t, env, only...)
}

// Render is Default().Render.
func Render(t *topology.Topology, env *Env, machine string, only ...string) ([]Artifact, error) {
	return Default().Render(t, env, machine, only...)
}

type stepsFunc = func(*topology.Topology, *Env) ([]plan.Node, error)

func (s *Set) build(t *topology.Topology, env *Env, only []string, steps func(Layer) stepsFunc) (*plan.Graph, error) {
	only, err := s.Select(only...)
	if err != nil {
		return nil, err
	}
	if env == nil || env.State == nil {
		return nil, errors.New("layer: a plan needs an Env with a State")
	}
	if t, err = t.Resolve(); err != nil {
		return nil, err
	}
	env = withLatency(t, env)
	g := new(plan.Graph)
	var errs []error
	for _, l := range s.layers {
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
// It writes nothing: key material the state lacks (VPN keys, cluster CAs)
// is generated for the render alone (topology.State.DryRun).
func (s *Set) Render(t *topology.Topology, env *Env, machine string, only ...string) ([]Artifact, error) {
	only, err := s.Select(only...)
	if err != nil {
		return nil, err
	}
	if t, err = t.Resolve(); err != nil {
		return nil, err
	}
	if _, ok := t.Machine(machine); !ok {
		return nil, fmt.Errorf("topology %s has no machine %q", t.Name, machine)
	}
	env = withLatency(t, env)
	if env.State != nil && !env.State.IsDryRun() {
		// Rendering shows what would be applied; the keys it needs but
		// the state lacks are made for the render alone.
		e := *env
		e.State = env.State.DryRun()
		env = &e
	}
	var out []Artifact
	for _, l := range s.layers {
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
func withLatency(t *topology.Topology, env *Env) *Env {
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

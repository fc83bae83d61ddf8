package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/planetstage/planetstage/layer"
	"io"
	"log/slog"
	"slices"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/lab/k8snode"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// inLab runs a walk against the topology's local lab: it brings the lab up
// when it is not (the simulated hypervisors, and so the esxi layer, exist
// only in the process that brought it up), applies the esxi layer and gives
// every powered-on VM its container, then walks the other layers. A lab
// that is already up is attached to, and the esxi layer is left out with a
// note. The cluster layer runs only when asked for by name (its nodes run
// the Kubernetes node image, whose first build takes long: see stage
// node-image), and so does the wan layer (tc netem, which the lab's kernel
// may lack). A topology with latency gets the lab's WAN relay as a process
// of its own (see relay.go), which an apply restarts when it is gone.
func inLab(ctx context.Context, t *topology.Topology, env *layer.Env, o *options, hook plan.Hook, apply bool, out io.Writer) ([]*plan.Result, error) {
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := labStateDir(o, t.Name)
	if err != nil {
		return nil, err
	}
	opts := lab.Options{StateDir: dir, Log: log, RunRelay: processRelay(dir), Progress: func(e lab.Event) {
		if e.Done {
			fmt.Fprintf(out, " ✓ %s (%s)\n", e.Phase, e.Elapsed.Round(100e6))
		}
	}}
	l, err := lab.Attach(ctx, t, opts)
	fresh := false
	if err != nil {
		if !apply {
			return nil, fmt.Errorf("%w; bring it up with stage apply --lab", err)
		}
		if t.Cluster != nil && slices.Contains(o.layerList(), "cluster") {
			// Control planes and workers run the Kubernetes node image.
			if opts.NodeImage, err = nodeImage(ctx, k8snode.Options{Log: log}, out); err != nil {
				return nil, err
			}
		}
		if l, err = lab.Up(ctx, t, opts); err != nil {
			return nil, err
		}
		fresh = true
	} else if r := l.Relay(); r != nil && apply {
		if err := ensureRelayProcess(ctx, dir, r.Paths); err != nil {
			return nil, err
		}
	}
	for _, n := range l.Notes() {
		fmt.Fprintf(out, " • %s\n", n)
	}
	labEnv := l.Env(env.State)
	labEnv.Log = env.Log
	lt := l.Topology()

	layers := o.layerList()
	if len(layers) == 0 {
		layers = slices.DeleteFunc(layer.Names(), func(n string) bool { return n == "cluster" || n == "wan" })
		if r := l.Relay(); r != nil {
			first, last := r.Ports()
			fmt.Fprintf(out, " • the tunnels cross the lab's WAN relay on %s:%d-%d (%d paths), which gives them the topology's latency; no netem\n",
				r.Bind, first, last, len(r.Paths))
		}
	}
	var results []*plan.Result
	walk := func(names []string) error {
		g, err := layer.Plan(lt, labEnv, names...)
		if err != nil {
			return err
		}
		res, err := plan.Walk(ctx, g, plan.Options{Apply: apply, Parallelism: o.parallelism, Hook: hook})
		if res != nil {
			results = append(results, res)
		}
		return err
	}
	if slices.Contains(layers, layer.Machines) {
		layers = slices.DeleteFunc(layers, func(n string) bool { return n == layer.Machines })
		switch {
		case len(lt.Hypervisors) == 0:
		case !fresh:
			fmt.Fprintln(out, " • esxi layer left out: the lab's simulated hypervisors lived in the process that brought it up")
		default:
			if err := walk([]string{layer.Machines}); err != nil {
				return results, err
			}
			if err := l.SyncVMs(ctx); err != nil {
				return results, err
			}
		}
	}
	if len(layers) > 0 {
		return results, walk(layers)
	}
	return results, nil
}

// downLab removes the topology's lab and stops its WAN relay.
func downLab(ctx context.Context, t *topology.Topology, o *options, out io.Writer) error {
	dir, err := labStateDir(o, t.Name)
	if err != nil {
		return err
	}
	if err := errors.Join(stopRelay(dir), lab.Down(ctx, t.Name)); err != nil {
		return err
	}
	fmt.Fprintf(out, " ✓ Removed lab %q\n", t.Name)
	return nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// labOptions are the lab's options for t from the flags: its state
// directory, and a WAN relay that runs as `stage wan-relay`, a process of
// its own, so that the tunnels keep their path after this command exits.
func labOptions(t *topology.Topology, o *options, log *slog.Logger, out io.Writer) lab.Options {
	return lab.Options{StateDir: o.labState, Log: log, RelayCommand: lab.SelfRelay("wan-relay"),
		// Control planes and workers run the Kubernetes node image, whose
		// first build takes long: only when the cluster is asked for.
		Kubernetes: t.Cluster != nil && slices.Contains(o.layerList(), layer.Cluster),
		Progress: func(e lab.Event) {
			if e.Done && e.Err == nil {
				fmt.Fprintf(out, " ✓ %s (%s)\n", e, e.Elapsed.Round(100e6))
			}
		}}
}

// attachLab returns the running lab of t, saying how to bring one up when
// there is none.
func attachLab(ctx context.Context, t *topology.Topology, o *options, log *slog.Logger, out io.Writer) (*lab.Lab, error) {
	l, err := lab.Attach(ctx, t, labOptions(t, o, log, out))
	if err != nil {
		return nil, fmt.Errorf("%w; bring it up with stage apply --lab", err)
	}
	return l, nil
}

// inLab plans or applies the layers against the topology's local lab,
// bringing the lab up first for an apply when it is not (package lab does
// the work: Up, then Apply; see its doc for which layers run by default).
func inLab(ctx context.Context, t *topology.Topology, o *options, log *slog.Logger, hook plan.Hook, apply bool, out io.Writer) (*plan.Result, error) {
	opts := labOptions(t, o, log, out)
	l, err := lab.Attach(ctx, t, opts)
	if err != nil {
		if !apply {
			return nil, fmt.Errorf("%w; bring it up with stage apply --lab", err)
		}
		if l, err = lab.Up(ctx, t, opts); err != nil {
			return nil, err
		}
	}
	for _, n := range l.Notes() {
		fmt.Fprintf(out, " • %s\n", n)
	}
	return l.Apply(ctx, lab.ApplyOptions{Layers: o.layerList(), DryRun: !apply, Hook: hook, Parallelism: o.parallelism})
}

// downLab removes the topology's lab and stops its WAN relay.
func downLab(ctx context.Context, t *topology.Topology, o *options, out io.Writer) error {
	if err := lab.Down(ctx, t.Name, lab.Options{StateDir: o.labState}); err != nil {
		return err
	}
	fmt.Fprintf(out, " ✓ Removed lab %q\n", t.Name)
	return nil
}

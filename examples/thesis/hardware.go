package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// appliedOnly is the hardware run's check: not a PASS, which means the
// lab's checks passed.
const appliedOnly = "APPLIED: every step succeeded; the lab's checks (matrices, cluster, deployment) do not run on hardware yet"

// onHardware points t's hypervisors at the URLs given with --esxi (in
// order; credentials from GOVC_USERNAME and GOVC_PASSWORD, TLS checked
// unless GOVC_INSECURE=1) and returns it; an error names a bad list.
func onHardware(t *topology.Topology, urls string) (*topology.Topology, error) {
	list := strings.Split(urls, ",")
	if len(list) != len(t.Hypervisors) {
		return nil, fmt.Errorf("--esxi: %d URLs for %d hypervisors", len(list), len(t.Hypervisors))
	}
	t = t.Clone()
	for i, u := range list {
		t.Hypervisors[i].URL = strings.TrimSpace(u)
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("--esxi: %w", err)
	}
	return t, nil
}

// runHardware applies the thesis's plan to real machines: the hypervisors
// given with --esxi, the routers and hosts over SSH as the topology's ssh
// section says (host keys checked). It is the same plan the lab runs, but
// NOT the same check: the matrices, the cluster's evaluation and the
// deployment are measured from inside the lab's containers and do not run
// here yet, so the check says only that every step succeeded, and the
// report lists what was not checked.
func runHardware(ctx context.Context, t *topology.Topology, o options, out, errOut io.Writer) (*report, error) {
	rep := &report{}
	dir := o.stateDir
	if dir == "" {
		var err error
		if dir, err = topology.DefaultStateDir(t.Name); err != nil {
			return rep, err
		}
	}
	st, err := topology.OpenState(dir)
	if err != nil {
		return rep, err
	}
	env := layer.NewEnv(t, st, logger(o, errOut))
	defer env.Close(ctx)
	g, err := layer.Plan(t, env)
	if err != nil {
		return rep, err
	}
	fmt.Fprintf(out, " • Applying every layer to the hardware: %d steps\n", g.Len())
	res, err := plan.Walk(ctx, g, plan.Options{Apply: true, Parallelism: o.parallelism, Hook: plan.Progress(out)})
	rep.add(res)
	rep.Layers = layer.Names()
	rep.Skipped = append(rep.Skipped, skippedLayer{Layer: "checks",
		Reason: "the matrices, the cluster's evaluation and the deployment are measured only in the lab so far"})
	if res != nil {
		rep.TotalSeconds = seconds(res.Duration)
		fmt.Fprintln(out, res)
	}
	printTiming(out, rep)
	if err != nil {
		return rep, err
	}
	rep.Check = appliedOnly
	return rep, nil
}

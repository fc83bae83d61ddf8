package main

import (
	"context"
	"fmt"
	"github.com/planetstage/planetstage/layer"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// onHardware points t's hypervisors at the URLs given with --esxi (in
// order; credentials from GOVC_USERNAME and GOVC_PASSWORD, TLS checked
// unless GOVC_INSECURE=1) and returns it; an error names a bad list.
func onHardware(t *topology.Topology, urls string) (*topology.Topology, error) {
	list := strings.Split(urls, ",")
	if len(list) != len(t.Hypervisors) {
		return nil, fmt.Errorf("--esxi: %d URLs for %d hypervisors (%s)", len(list), len(t.Hypervisors), hypervisorNames(t))
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

func hypervisorNames(t *topology.Topology) string {
	var names []string
	for _, h := range t.Hypervisors {
		names = append(names, h.Name)
	}
	return strings.Join(names, ", ")
}

// runHardware applies the thesis's plan to real machines: the hypervisors
// given with --esxi, the routers and hosts over SSH as the topology's ssh
// section says (host keys checked). It is the same plan the lab runs; what
// the lab measures from inside its containers (the matrices) is not
// measured here, and the report says so. The check passes when every step
// succeeded.
func runHardware(ctx context.Context, t *topology.Topology, o options, out, errOut io.Writer) (*report, error) {
	var log *slog.Logger
	if o.verbose {
		log = slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	dir := o.stateDir
	if dir == "" {
		var err error
		if dir, err = topology.DefaultStateDir(t.Name); err != nil {
			return nil, err
		}
	}
	st, err := topology.OpenState(dir)
	if err != nil {
		return nil, err
	}
	pool := layer.NewSSHPool(t, log)
	defer pool.Close()
	esxi := &layer.ESXiOptions{}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = esxi.Close(cctx)
	}()
	env := &layer.Env{State: st, Dial: pool.Dial, Log: log, ESXi: esxi}
	g, err := layer.Plan(t, env)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, " • Applying every layer to the hardware: %d steps\n", g.Len())
	res, werr := plan.Walk(ctx, g, plan.Options{Apply: true, Parallelism: o.parallelism, Hook: plan.Progress(out)})
	rep := &report{}
	rep.finish([]*plan.Result{res}, layer.Names())
	if res != nil {
		rep.TotalSeconds = round(res.Duration.Seconds())
		fmt.Fprintln(out, res)
	}
	rep.Skipped = append(rep.Skipped, skippedLayer{Layer: "matrices",
		Reason: "reachability is measured from inside the lab's containers; on hardware use stage verify once it can ping over SSH"})
	fmt.Fprintln(out, "\nTiming:")
	for _, s := range rep.Steps {
		fmt.Fprintf(out, "  %-40s %-8s %8.3f\n", s.ID, s.Outcome, s.Seconds)
	}
	fmt.Fprintf(out, "  %-40s %-8s %8.3f\n\n", "total", "", rep.TotalSeconds)
	if werr != nil {
		return rep, werr
	}
	rep.Check = "PASS"
	return rep, nil
}

// Command thesis reproduces the testbed of the 2019 Keio thesis in the
// local lab and checks it the way the thesis did: the reachability matrix of
// every machine before the tunnels (table 4.6: only pairs within a site) and
// after (table 4.7: every pair), with the plan applied in between.
//
//	go run ./examples/thesis                 # up, apply, verify, tear down
//	go run ./examples/thesis --keep          # leave the lab running (prints how to ssh in)
//	go run ./examples/thesis --down          # remove a kept (or crashed) lab
//	go run ./examples/thesis --report r.json # also write the run as JSON
//
// It needs a Docker engine; the node image is built locally on first use.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/planetstage/planetstage/layer"
	"io"
	stdlog "log"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	keep, down, verbose bool
	cluster             bool
	report, stateDir    string
	esxi                string
	geo                 string // main_geo.go
	parallelism         int
	timeout             time.Duration
}

func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	var o options
	fs := flag.NewFlagSet("thesis", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.BoolVar(&o.keep, "keep", false, "leave the lab running for exploration")
	fs.BoolVar(&o.down, "down", false, "remove the lab (a kept or crashed one) and exit")
	fs.BoolVar(&o.verbose, "v", false, "log debug detail to stderr")
	fs.StringVar(&o.report, "report", "", "write the run (matrices, steps, timings, check) as JSON to `FILE`")
	fs.StringVar(&o.stateDir, "state", "", "lab state `DIR` (keys, known_hosts, plan state); default: the user cache dir")
	fs.IntVar(&o.parallelism, "parallelism", 0, "steps run at once (0: the plan's default)")
	fs.DurationVar(&o.timeout, "timeout", 150*time.Minute, "give up after `DURATION` (the first run builds the Kubernetes node image)")
	fs.BoolVar(&o.cluster, "cluster", true, "bring up the kubeadm cluster too (3 masters behind HAProxy, 4 workers) and run the thesis's evaluation: nodes, a spread deployment, add a node, lose a master; false stops after the tunnels")
	fs.StringVar(&o.esxi, "esxi", "", "run on real hardware: the SDK `URLs` of the two ESXi hosts, comma-separated (credentials from GOVC_USERNAME/GOVC_PASSWORD); routers and hosts over SSH as thesis.yaml's ssh section says")
	fs.StringVar(&o.geo, "geo", "", "place the sites in a `PRESET`'s cities (e.g. planet: Tokyo, Frankfurt, São Paulo); the lab's WAN relay gives the tunnels their latency, and the run measures it")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(errOut, "thesis: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	t := Thesis()
	if err := placeSites(t, o.geo); err != nil {
		fmt.Fprintf(errOut, "thesis: %v\n", err)
		return 2
	}
	if o.down {
		if err := lab.Down(ctx, t.Name); err != nil {
			fmt.Fprintf(errOut, "thesis: down: %v\n", err)
			return 1
		}
		fmt.Fprintf(out, " ✓ Removed lab %q\n", t.Name)
		return 0
	}
	var r *report
	var err error
	if o.esxi != "" {
		if t, err = onHardware(t, o.esxi); err != nil {
			fmt.Fprintf(errOut, "thesis: %v\n", err)
			return 2
		}
		r, err = runHardware(ctx, t, o, out, errOut)
	} else {
		r, err = runThesis(ctx, t, o, out, errOut)
	}
	if err != nil {
		fmt.Fprintf(errOut, "thesis: %v\n", err)
		if r == nil {
			r = &report{}
		}
		r.Check = "FAIL: " + err.Error()
	}
	if o.report != "" {
		if werr := r.writeFile(o.report); werr != nil {
			fmt.Fprintf(errOut, "thesis: report: %v\n", werr)
			return 1
		}
	}
	fmt.Fprintf(out, "thesis check: %s\n", r.Check)
	if !r.passed() {
		return 1
	}
	return 0
}

// runThesis brings the lab up, measures, applies, measures again and
// returns the run's report; the lab is torn down unless --keep.
func runThesis(ctx context.Context, t *topology.Topology, o options, out, errOut io.Writer) (rep *report, err error) {
	logLevel := slog.LevelWarn
	if o.verbose {
		logLevel = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: logLevel}))
	if !o.verbose {
		// The in-process ESXi simulators log TLS handshakes that govmomi's
		// thumbprint pinning retries; they are noise here.
		stdlog.SetOutput(io.Discard)
	}
	dir := o.stateDir
	if dir == "" {
		if dir, err = lab.DefaultStateDir(t.Name); err != nil {
			return nil, err
		}
	}
	rep = &report{Cluster: o.cluster && t.Cluster != nil}
	var nodeImage string
	if rep.Cluster {
		if nodeImage, err = buildNodeImage(ctx, log, out, rep); err != nil {
			return rep, err
		}
	}
	start := time.Now()
	l, err := lab.Up(ctx, t, lab.Options{StateDir: dir, Log: log, NodeImage: nodeImage, Progress: func(e lab.Event) {
		printPhase(out, e)
		if e.Done && e.Err == nil && len(e.Phase) > 19 && e.Phase[:19] == "Building node image" {
			rep.ImageBuildSeconds = e.Elapsed.Seconds()
		}
	}})
	if err != nil {
		return nil, err
	}
	defer func() {
		if o.keep {
			printKeep(out, l, rep.Cluster)
			return
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		err = errors.Join(err, l.Down(dctx))
		fmt.Fprintf(out, " ✓ Removed lab %q\n", t.Name)
	}()
	rep.LabUpSeconds = round(time.Since(start).Seconds())
	for _, n := range l.Notes() {
		fmt.Fprintf(out, " • %s\n", n)
	}
	// lab.Up made every machine anew, so what an earlier run's plan state
	// says about them (cluster members, tokens) is stale: start it empty.
	if err := os.RemoveAll(filepath.Join(dir, "topology")); err != nil {
		return rep, err
	}
	state, err := topology.OpenState(filepath.Join(dir, "topology"))
	if err != nil {
		return nil, err
	}
	env := newEnv(l, state, log)
	lt := l.Topology()
	available := layer.Names()

	// The machines of the thesis are VMs: bring up the hypervisor layer
	// first, so that there is something to measure "before".
	var results []*plan.Result
	if slices.Contains(available, layer.Machines) {
		res, err := walk(ctx, lt, env, []string{layer.Machines}, o, out)
		results = append(results, res)
		if err != nil {
			rep.finish(results, nil)
			return rep, err
		}
	}
	syncStart := time.Now()
	if err := l.SyncVMs(ctx); err != nil {
		return rep, err
	}
	rep.MachinesSeconds = round(time.Since(syncStart).Seconds())
	if rep.Before, err = measure(ctx, l, out, "before the tunnels (thesis table 4.6)"); err != nil {
		return rep, err
	}
	var rest []string
	for _, name := range available {
		if name != layer.Machines && name != layer.Cluster {
			rest = append(rest, name)
		}
	}
	if lt.Cluster != nil && !rep.Cluster {
		reason := "--cluster=false"
		rep.Skipped = append(rep.Skipped, skippedLayer{Layer: "cluster", Reason: reason})
		fmt.Fprintf(out, " - cluster layer skipped: %s\n", reason)
	}
	if len(rest) > 0 {
		res, werr := walk(ctx, lt, env, rest, o, out)
		results = append(results, res)
		if werr != nil {
			fmt.Fprintf(out, " ✗ apply: %v\n", werr)
		}
	}
	rep.finish(results, available)
	// A tunnel whose daemon has just started still has to shake hands: wait
	// (up to a minute) until every pair answers, and say how long it took.
	waitStart := time.Now()
	if slices.Contains(available, "routers") {
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		_, err = l.MatrixUntil(wctx, func(m lab.Matrix) bool { return len(m.Unreachable()) == 0 })
		cancel()
		if err != nil {
			return rep, err
		}
	}
	rep.ConvergeSeconds = round(time.Since(waitStart).Seconds())
	fmt.Fprintf(out, " ✓ Tunnels carry every pair, or a minute passed (%s)\n", time.Since(waitStart).Round(100*time.Millisecond))
	if rep.After, err = measure(ctx, l, out, "after the tunnels (thesis table 4.7)"); err != nil {
		return rep, err
	}
	if rep.Geo, err = measureGeo(ctx, l, env, o.geo, out); err != nil {
		return rep, err
	}
	var sysctls map[string]string
	if rep.Cluster {
		sysctls = hostSysctls()
		clusterStart := time.Now()
		res, err := walk(ctx, lt, env, []string{"cluster"}, o, out)
		results = append(results, res)
		rep.finish(results, available)
		rep.ClusterSeconds = round(time.Since(clusterStart).Seconds())
		if err != nil {
			return rep, fmt.Errorf("cluster: %w", err)
		}
		fmt.Fprintf(out, " ✓ Cluster up: every node Ready %.1f s after the tunnels\n", rep.ClusterSeconds)
		if rep.Nodes, err = listNodes(ctx, lt, env, out); err != nil {
			return rep, err
		}
		if rep.Deployment, err = deploy(ctx, lt, env, out); err != nil {
			return rep, err
		}
	}
	// A second apply of the unchanged testbed must change nothing.
	var again []string
	for _, name := range available {
		if name != "cluster" || rep.Cluster {
			again = append(again, name)
		}
	}
	if len(again) > 0 {
		res, err := walkQuiet(ctx, lt, env, again, o)
		if err != nil {
			return rep, fmt.Errorf("second apply: %w", err)
		}
		rep.ReapplySeconds = round(res.Duration.Seconds())
		for _, s := range res.Steps {
			if s.Action != plan.NoOp {
				rep.ReapplyChanges = append(rep.ReapplyChanges, s.ID+": "+s.Reason)
			}
		}
		fmt.Fprintf(out, " ✓ Second apply: %d steps, %d changes (%s)\n", len(res.Steps), len(rep.ReapplyChanges), res.Duration.Round(100*time.Millisecond))
	}
	if rep.Cluster {
		if err := evaluateCluster(ctx, l, t, state, log, again, o, out, rep, &results); err != nil {
			return rep, err
		}
		rep.finish(results, available)
	}
	rep.TotalSeconds = round(time.Since(start).Seconds())
	printRTTs(out, lt, rep.After)
	printTiming(out, rep)
	if sysctls != nil {
		rep.HostSysctlsChanged = changedSysctls(sysctls, hostSysctls())
	}
	rep.Check = check(lt, rep)
	return rep, nil
}

// newEnv is the plan's environment in the lab: SSH to the containers with
// the lab's key and known_hosts.
func newEnv(l *lab.Lab, state *topology.State, log *slog.Logger) *layer.Env {
	env := l.Env(state)
	env.Log = log
	return env
}

func walk(ctx context.Context, t *topology.Topology, env *layer.Env, layers []string, o options, out io.Writer) (*plan.Result, error) {
	g, err := layer.Plan(t, env, layers...)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, " • Applying %v: %d steps\n", layers, g.Len())
	return plan.Walk(ctx, g, plan.Options{Apply: true, Parallelism: o.parallelism, Hook: plan.Progress(out)})
}

// walkQuiet applies like walk without a line per step.
func walkQuiet(ctx context.Context, t *topology.Topology, env *layer.Env, layers []string, o options) (*plan.Result, error) {
	g, err := layer.Plan(t, env, layers...)
	if err != nil {
		return nil, err
	}
	return plan.Walk(ctx, g, plan.Options{Apply: true, Parallelism: o.parallelism})
}

func measure(ctx context.Context, l *lab.Lab, out io.Writer, what string) (lab.Matrix, error) {
	start := time.Now()
	m, err := l.Matrix(ctx)
	if err != nil {
		return lab.Matrix{}, err
	}
	fmt.Fprintf(out, "\nReachability %s, measured in %s (o reachable, x not):\n%s\n", what, time.Since(start).Round(100*time.Millisecond), m.Table())
	return m, nil
}

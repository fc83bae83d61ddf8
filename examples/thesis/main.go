// Command thesis reproduces the testbed of the 2019 Keio thesis in the
// local lab and checks it the way the thesis did: the reachability matrix of
// every machine before the tunnels (table 4.6: only pairs within a site) and
// after (table 4.7: every pair), with the plan applied in between; then the
// kubeadm HA cluster, a deployment spread over the workers, a node added and
// a master lost (chapter 5).
//
//	go run ./examples/thesis                 # up, apply, verify, tear down
//	go run ./examples/thesis --keep          # leave the lab running (prints how to ssh in)
//	go run ./examples/thesis --down          # remove a kept (or crashed) lab
//	go run ./examples/thesis --report r.json # also write the run as JSON
//
//	go run ./examples/thesis --esxi URL1,URL2 # the same run and checks on two real ESXi hosts
//
// Package testbed does the work, on the lab (package lab) or on hardware;
// this program picks the steps, prints and checks. The lab needs a Docker
// engine; its images are built locally on first use.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/lab/k8snode"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/reach"
	"github.com/planetstage/planetstage/testbed"
	"github.com/planetstage/planetstage/topology"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	keep, down, verbose, cluster bool
	report, stateDir, esxi, geo  string
	parallelism                  int
	timeout                      time.Duration
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
	if err := t.PlaceSites(o.geo); err != nil {
		fmt.Fprintf(errOut, "thesis: %v\n", err)
		return 2
	}
	if o.down {
		if err := lab.Down(ctx, t.Name, lab.Options{StateDir: o.stateDir}); err != nil {
			fmt.Fprintf(errOut, "thesis: down: %v\n", err)
			return 1
		}
		fmt.Fprintf(out, " ✓ Removed lab %q\n", t.Name)
		return 0
	}
	if o.esxi != "" {
		var err error
		if t, err = onHardware(t, o.esxi, o.geo); err != nil {
			fmt.Fprintf(errOut, "thesis: %v\n", err)
			return 2
		}
	}
	r, err := runThesis(ctx, t, o, out, errOut)
	if err != nil {
		fmt.Fprintf(errOut, "thesis: %v\n", err)
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

func logger(o options, errOut io.Writer) *slog.Logger {
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	} else {
		// The in-process ESXi simulators log TLS handshakes that govmomi's
		// thumbprint pinning retries; they are noise here.
		stdlog.SetOutput(io.Discard)
	}
	return slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: level}))
}

// runThesis brings the testbed up (the lab, or with --esxi the hardware),
// measures, applies, measures again, runs the cluster's evaluation and
// returns the run's report (never nil); the lab is torn down unless --keep.
func runThesis(ctx context.Context, t *topology.Topology, o options, out, errOut io.Writer) (rep *report, err error) {
	rep = &report{Cluster: o.cluster && t.Cluster != nil}
	start := time.Now()
	tb, done, err := open(ctx, t, o, out, errOut, rep)
	if err != nil {
		return rep, err
	}
	defer func() { err = errors.Join(err, done()) }()
	// The testbed as it runs, before the experiments grow it.
	lt := tb.Topology()
	apply := func(layers ...string) (*plan.Result, error) {
		fmt.Fprintf(out, " • Applying %v\n", layers)
		res, err := tb.Apply(ctx, testbed.ApplyOptions{Layers: layers, Hook: plan.ProgressFor(out), Parallelism: o.parallelism})
		rep.Add(res)
		return res, err
	}
	// The machines of the thesis are VMs: make them first, so that there
	// is something to measure "before".
	res, err := apply(layer.Machines)
	if err != nil {
		return rep, err
	}
	rep.MachinesSeconds = seconds(res.Duration)
	if rep.Before, err = measure(ctx, tb, out, "before the tunnels (thesis table 4.6)"); err != nil {
		return rep, err
	}
	network := []string{layer.Routers, layer.WAN, layer.LB}
	if t.Cluster != nil && !rep.Cluster {
		rep.Skipped = append(rep.Skipped, lab.SkippedLayer{Layer: layer.Cluster, Reason: "--cluster=false"})
		fmt.Fprintln(out, " - cluster layer skipped: --cluster=false")
	}
	// In the lab Apply returns once the tunnels carry every pair.
	if _, err := apply(network...); err != nil {
		return rep, err
	}
	if rep.After, err = measure(ctx, tb, out, "after the tunnels (thesis table 4.7)"); err != nil {
		return rep, err
	}
	if rep.Geo, err = measureGeo(ctx, tb, o.geo, out); err != nil {
		return rep, err
	}
	applied := append([]string{layer.Machines}, network...)
	var sysctls map[string]string
	if rep.Cluster {
		sysctls = k8snode.ReadHostSysctls()
		if err := bringUpCluster(ctx, tb, apply, out, rep); err != nil {
			return rep, err
		}
		applied = append(applied, layer.Cluster)
	}
	// A second apply of the unchanged testbed must change nothing.
	again, err := tb.Apply(ctx, testbed.ApplyOptions{Layers: applied, Parallelism: o.parallelism})
	if err != nil {
		return rep, fmt.Errorf("second apply: %w", err)
	}
	rep.Reapplied(again)
	fmt.Fprintf(out, " ✓ Second apply: %d steps, %d changes (%s)\n", len(again.Steps), len(rep.ReapplyChanges), again.Duration.Round(100*time.Millisecond))
	rep.Layers = applied
	if rep.Cluster {
		if err := evaluateCluster(ctx, tb, testbed.ApplyOptions{Hook: plan.ProgressFor(out), Parallelism: o.parallelism}, out, rep); err != nil {
			return rep, err
		}
		if tb.IsLab() { // the lab's kubelets share this machine's kernel
			rep.HostSysctlsChanged = k8snode.ChangedSysctls(sysctls, k8snode.ReadHostSysctls())
		}
	}
	rep.TotalSeconds = seconds(time.Since(start))
	rep.After.WriteRTTs(out, lt)
	printTiming(out, rep)
	rep.Check = check(lt, rep, tb.IsLab())
	return rep, nil
}

// open brings up a new lab of t, or with --esxi opens its hardware, and
// returns it with the func that ends it: the lab is torn down unless
// --keep.
func open(ctx context.Context, t *topology.Topology, o options, out, errOut io.Writer, rep *report) (*testbed.Testbed, func() error, error) {
	if o.esxi != "" {
		fmt.Fprintf(out, " • The hardware: %d ESXi hosts, the machines over SSH as thesis.yaml's ssh section says\n", len(t.Hypervisors))
		tb, err := testbed.Open(ctx, t, testbed.Options{StateDir: o.stateDir, Log: logger(o, errOut)})
		if err != nil {
			return nil, nil, err
		}
		return tb, func() error { return tb.Close(ctx) }, nil
	}
	start, progress := time.Now(), lab.Progress(out)
	l, err := lab.Up(ctx, t, lab.Options{StateDir: o.stateDir, Log: logger(o, errOut), Kubernetes: rep.Cluster,
		NodeImageOptions: k8snode.Options{Hook: plan.ProgressFor(out)}, // every stage and compile as it goes
		Progress:         func(e lab.Event) { progress(e); rep.Phase(e) }})
	if err != nil {
		return nil, nil, err
	}
	rep.LabUpSeconds = seconds(time.Since(start))
	rep.Routers = l.Routers()
	for _, n := range l.Notes() {
		fmt.Fprintf(out, " • %s\n", n)
	}
	return testbed.FromLab(l, testbed.Options{LabStateDir: o.stateDir}), func() error {
		if o.keep {
			printKeep(out, l, rep.Cluster)
			return nil
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		err := l.Down(dctx)
		fmt.Fprintf(out, " ✓ Removed lab %q\n", t.Name)
		return err
	}, nil
}

func measure(ctx context.Context, tb *testbed.Testbed, out io.Writer, what string) (reach.Matrix, error) {
	start := time.Now()
	m, err := tb.Matrix(ctx)
	if err != nil {
		return reach.Matrix{}, err
	}
	fmt.Fprintf(out, "\nReachability %s, measured in %s (o reachable, x not):\n%s\n", what, time.Since(start).Round(100*time.Millisecond), m.Table())
	return m, nil
}

// seconds is d in seconds, to the millisecond.
func seconds(d time.Duration) float64 { return d.Round(time.Millisecond).Seconds() }

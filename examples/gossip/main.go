// Command gossip stages a real peer-to-peer system across the planet and
// watches it through a partition: a libp2p gossipsub peer (the one package
// experiment/gossip ships) built offline and run on every worker of a kubeadm
// cluster whose three sites sit in three continents (--geo planet:
// Tokyo, Frankfurt, São Paulo; the lab's WAN relay gives the tunnels the
// latency of those distances). Every peer publishes and records when each
// message arrived; mid-run the last site is partitioned, then healed.
//
//	go run ./examples/gossip --geo planet --out results/gossip
//
// It prints, and writes into --out (package experiment's results folder,
// report.html included, plus results.json), the delivery latency per site
// pair (p50, p99) beside the emulated one-way delay and RTT, and the
// delivery ratio per site before, during and after the partition; then
// "gossip check: PASS" when no message beat the emulated delay, nothing
// crossed the cut while it held and the cut site received again after
// the heal (or FAIL and why, exit 1). Ctrl-C stops the run: what was
// measured stays in the folder, a cut is healed, and the lab is removed
// (with --keep it stays, whole).
//
// The workflow is package experiment/gossip's; this program is its flags
// and its printing.
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

	"github.com/planetstage/planetstage/experiment"
	"github.com/planetstage/planetstage/experiment/gossip"
	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/lab/k8snode"
	"github.com/planetstage/planetstage/plan"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	geo, out, peer, state, partition string
	before, during, after, timeout   time.Duration
	keep, down, verbose              bool
}

func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	var o options
	fs := flag.NewFlagSet("gossip", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&o.geo, "geo", "planet", "place the three sites in the first three cities of `PRESET`")
	fs.StringVar(&o.out, "out", "", "the results folder `DIR` (report.html, results.json, …); required")
	fs.StringVar(&o.peer, "peer", "", "a peer's Go module `DIR` of your own (default: the built-in libp2p peer, package experiment/gossip)")
	fs.StringVar(&o.partition, "partition", "", "the `SITE` to cut off mid-run (default: the last, which holds no control plane)")
	fs.DurationVar(&o.before, "before", 20*time.Second, "gossip this long before the partition")
	fs.DurationVar(&o.during, "during", 20*time.Second, "keep the site cut off this long")
	fs.DurationVar(&o.after, "after", 30*time.Second, "gossip this long after the heal")
	fs.StringVar(&o.state, "state", "", "lab state `DIR` (keys, known_hosts, plan state); default: the user cache dir")
	fs.DurationVar(&o.timeout, "timeout", 150*time.Minute, "give up after `DURATION` (a first run builds the Kubernetes node image)")
	fs.BoolVar(&o.keep, "keep", false, "leave the lab running (the peers stop)")
	fs.BoolVar(&o.down, "down", false, "remove the lab (a kept or crashed one) and exit")
	fs.BoolVar(&o.verbose, "v", false, "log debug detail to stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || o.out == "" && !o.down {
		fmt.Fprintln(errOut, "gossip: usage: gossip --out DIR [--geo PRESET] [flags]")
		return 2
	}
	t, err := gossip.Topology(o.geo)
	if err != nil {
		fmt.Fprintf(errOut, "gossip: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if o.down {
		if err := lab.Down(ctx, t.Name, lab.Options{StateDir: o.state}); err != nil {
			fmt.Fprintf(errOut, "gossip: down: %v\n", err)
			return 1
		}
		fmt.Fprintf(out, " ✓ Removed lab %q\n", t.Name)
		return 0
	}
	res, err := stage(ctx, o, out, errOut)
	if res != nil && len(res.Pairs) > 0 {
		fmt.Fprintf(out, "\nDelivery latency per site pair (publisher's site to receiver's), beside the emulated delay:\n")
		_ = res.WriteText(out)
	}
	fmt.Fprintf(out, "\nResults in %s (report.html, %s)\n", o.out, gossip.ResultsFile)
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintf(out, "gossip check: INTERRUPTED (%v): what was measured until then is in %s\n", err, o.out)
		return 1
	case err != nil:
		fmt.Fprintf(errOut, "gossip: %v\n", err)
		fmt.Fprintf(out, "gossip check: FAIL: %v\n", err)
		return 1
	case len(res.Problems) > 0:
		fmt.Fprintln(out, "gossip check: FAIL")
		for _, p := range res.Problems {
			fmt.Fprintf(out, "  ✗ %s\n", p)
		}
		return 1
	}
	fmt.Fprintln(out, "gossip check: PASS (no message faster than the emulated delay; nothing crossed the cut; the cut site received again after the heal)")
	return 0
}

// stage brings the lab and its cluster up, runs the experiment and takes
// the lab down again (unless --keep).
func stage(ctx context.Context, o options, out, errOut io.Writer) (res *gossip.Results, err error) {
	t, err := gossip.Topology(o.geo)
	if err != nil {
		return nil, err
	}
	log := logger(o.verbose, errOut)
	l, err := lab.Up(ctx, t, lab.Options{StateDir: o.state, Log: log, Kubernetes: true,
		NodeImageOptions: k8snode.Options{Hook: plan.ProgressFor(out)}, Progress: lab.Progress(out)})
	if err != nil {
		return nil, err
	}
	defer func() {
		if o.keep {
			fmt.Fprintf(out, " • Lab %q kept; remove it with: go run ./examples/gossip --down\n", t.Name)
			return
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		err = errors.Join(err, l.Down(dctx))
		fmt.Fprintf(out, " ✓ Removed lab %q\n", t.Name)
	}()
	for _, n := range l.Notes() {
		fmt.Fprintf(out, " • %s\n", n)
	}
	applied, err := l.Apply(ctx, lab.ApplyOptions{Hook: plan.ProgressFor(out)}) // every layer, the cluster included
	if err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	timing := applied.Timing()
	b, err := l.Bootstrapper()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "\nGossip across %d sites, one peer per worker; results folder %s\n", len(t.Sites), o.out)
	return gossip.Run(ctx, experiment.ForLab(l), b, gossip.Options{Dir: o.out, PeerSource: o.peer, Partition: o.partition,
		Before: o.before, During: o.during, After: o.after, Timing: &timing, Log: log,
		Progress: func(line string) { fmt.Fprintf(out, " %s\n", line) }})
}

func logger(verbose bool, errOut io.Writer) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	} else {
		stdlog.SetOutput(io.Discard)
	}
	return slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: level}))
}

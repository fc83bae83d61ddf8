package main

import (
	"context"
	"fmt"
	"github.com/planetstage/planetstage/layer"
	"io"
	"os"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

func runPlan(ctx context.Context, args []string, out, errOut io.Writer) error {
	var o options
	var format string
	fs := newFlagSet("plan", errOut, &o)
	addLayerFlags(fs, &o)
	fs.StringVar(&format, "format", "text", "output `FORMAT`: text, json, dot or mermaid")
	addLabFlags(fs, &o)
	if err := parse(fs, args, &o); err != nil {
		return err
	}
	write, ok := map[string]func(*plan.Result, io.Writer) error{
		"text": (*plan.Result).WriteText, "json": (*plan.Result).WriteJSON,
		"dot": (*plan.Result).WriteDOT, "mermaid": (*plan.Result).WriteMermaid,
	}[format]
	if !ok {
		return fmt.Errorf("unknown format %q; use text, json, dot or mermaid", format)
	}
	t, env, closeEnv, err := o.load(ctx, errOut)
	if err != nil {
		return err
	}
	defer closeEnv()
	var res *plan.Result
	if o.lab {
		res, err = inLab(ctx, t, &o, env.Log, nil, false, errOut)
	} else {
		var g *plan.Graph
		if g, err = layer.Plan(t, env, o.layerList()...); err != nil {
			return err
		}
		res, err = plan.Walk(ctx, g, plan.Options{Parallelism: o.parallelism})
	}
	if res != nil {
		if werr := write(res, out); werr != nil {
			return werr
		}
	}
	return err
}

func runApply(ctx context.Context, args []string, out, errOut io.Writer) error {
	return walk(ctx, "apply", layer.Plan, args, out, errOut)
}

func runDestroy(ctx context.Context, args []string, out, errOut io.Writer) error {
	return walk(ctx, "destroy", layer.DestroyPlan, args, out, errOut)
}

// walk applies a graph built by build with progress lines, a summary line
// and, with --report, the timing report as JSON.
func walk(ctx context.Context, name string, build func(*topology.Topology, *layer.Env, ...string) (*plan.Graph, error),
	args []string, out, errOut io.Writer) error {
	var o options
	var report string
	fs := newFlagSet(name, errOut, &o)
	addLayerFlags(fs, &o)
	fs.StringVar(&report, "report", "", "write the per-step timing report as JSON to `FILE`")
	addLabFlags(fs, &o)
	if err := parse(fs, args, &o); err != nil {
		return err
	}
	t, env, closeEnv, err := o.load(ctx, errOut)
	if err != nil {
		return err
	}
	defer closeEnv()
	var res *plan.Result
	switch {
	case o.lab && name == "destroy":
		// The lab's machines are containers: removing them removes all.
		return downLab(ctx, t, &o, out)
	case o.lab:
		res, err = inLab(ctx, t, &o, env.Log, plan.Progress(out), true, out)
	default:
		var g *plan.Graph
		if g, err = build(t, env, o.layerList()...); err != nil {
			return err
		}
		res, err = plan.Walk(ctx, g, plan.Options{Apply: true, Parallelism: o.parallelism, Hook: plan.Progress(out)})
	}
	if res == nil {
		return err
	}
	fmt.Fprintln(out, res)
	if report != "" {
		if werr := writeReport(report, res); werr != nil {
			return werr
		}
	}
	return err
}

func writeReport(path string, res *plan.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := res.WriteTiming(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

package stagecli

import (
	"context"
	"fmt"
	"io"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/testbed"
)

func (c *CLI) runPlan(ctx context.Context, args []string, out, errOut io.Writer) error {
	var o options
	var format string
	var offline bool
	fs := c.newFlagSet("plan", errOut, &o)
	addLayerFlags(fs, &o)
	fs.StringVar(&format, "format", "text", "output `FORMAT`: text, json, dot or mermaid")
	fs.BoolVar(&offline, "offline", false, "the whole plan as if nothing existed, without reaching any machine or hypervisor (for reviewing a topology)")
	addLabFlags(fs, &o)
	if err := parse(fs, args, &o); err != nil {
		return err
	}
	if offline && o.lab {
		return fmt.Errorf("--offline and --lab exclude each other: an offline plan reaches no machine")
	}
	write, err := plan.Writer(format)
	if err != nil {
		return err
	}
	tb, err := o.open(ctx, errOut, errOut)
	if err != nil {
		return err
	}
	defer tb.Close(ctx)
	res, err := tb.Plan(ctx, testbed.PlanOptions{Set: c.layers(), Layers: o.layerList(), Offline: offline, Parallelism: o.parallelism})
	if res != nil {
		if werr := write(res, out); werr != nil {
			return werr
		}
	}
	return err
}

// runApply applies the layers with progress lines, a summary line and,
// with --report, the timing report as JSON.
func (c *CLI) runApply(ctx context.Context, args []string, out, errOut io.Writer) error {
	return c.walk(ctx, "apply", args, out, errOut)
}

// runDestroy removes what apply made: in the lab, the whole lab.
func (c *CLI) runDestroy(ctx context.Context, args []string, out, errOut io.Writer) error {
	return c.walk(ctx, "destroy", args, out, errOut)
}

func (c *CLI) walk(ctx context.Context, name string, args []string, out, errOut io.Writer) error {
	var o options
	var report string
	var yes bool
	fs := c.newFlagSet(name, errOut, &o)
	addLayerFlags(fs, &o)
	fs.StringVar(&report, "report", "", "write the per-step timing report as JSON to `FILE`")
	fs.BoolVar(&yes, "yes", false, "on hardware, go on without showing the plan and asking")
	addLabFlags(fs, &o)
	if err := parse(fs, args, &o); err != nil {
		return err
	}
	tb, err := o.open(ctx, errOut, out)
	if err != nil {
		return err
	}
	defer tb.Close(ctx)
	if !o.lab && !yes {
		if err := c.confirm(ctx, name, tb, &o, out); err != nil {
			return err
		}
	}
	var res *plan.Result
	if name == "destroy" {
		res, err = tb.Destroy(ctx, testbed.DestroyOptions{Set: c.layers(), Layers: o.layerList(), Hook: plan.ProgressFor(out), Parallelism: o.parallelism})
		if err == nil && o.lab {
			fmt.Fprintf(out, " ✓ Removed lab %q\n", tb.Topology().Name)
		}
	} else {
		res, err = tb.Apply(ctx, testbed.ApplyOptions{Set: c.layers(), Layers: o.layerList(), Hook: plan.ProgressFor(out), Parallelism: o.parallelism})
	}
	if res == nil {
		return err
	}
	fmt.Fprintln(out, res)
	if report != "" {
		if werr := res.WriteTimingFile(report); werr != nil {
			return werr
		}
	}
	return err
}

package stagecli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// runPower turns a machine off or on, as a crash or a pulled plug would and
// as its return: in the lab its container stops and starts; on hardware
// its hypervisor powers its VM off and on (testbed's StopMachine and
// StartMachine). "on" returns once the machine answers over SSH. On
// hardware it asks for "yes" on a terminal first, as apply does; without a
// terminal it refuses unless --yes.
//
//	stage power -f FILE [--lab] [--yes] off|on NODE
func (c *CLI) runPower(ctx context.Context, args []string, out, errOut io.Writer) error {
	var o options
	fs := c.newFlagSet("power", errOut, &o)
	addLabFlags(fs, &o)
	yes := fs.Bool("yes", false, "on hardware, go on without asking")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitError{0}
		}
		return errUsage
	}
	if o.file == "" || fs.NArg() != 2 || (fs.Arg(0) != "off" && fs.Arg(0) != "on") {
		fmt.Fprintln(errOut, "usage: stage power -f FILE [--lab] [--yes] off|on NODE")
		return errUsage
	}
	on, node := fs.Arg(0) == "on", fs.Arg(1)
	tb, err := o.open(ctx, errOut, errOut)
	if err != nil {
		return err
	}
	defer tb.Close(ctx)
	if _, ok := tb.Topology().Machine(node); !ok {
		return fmt.Errorf("no machine %q in topology %q", node, tb.Topology().Name)
	}
	if !o.lab && !*yes {
		if !c.onTerminal() {
			return fmt.Errorf("power %s changes a real machine: run it on a terminal to confirm, or pass --yes", fs.Arg(0))
		}
		if err := c.askYes(out, fmt.Sprintf("power %s: %s of %q, through its hypervisor.", fs.Arg(0), node, tb.Topology().Name)); err != nil {
			return err
		}
	}
	start := time.Now()
	if on {
		if err := tb.StartMachine(ctx, node); err != nil {
			return err
		}
		fmt.Fprintf(out, " ✓ %s is on and answers over SSH (%s)\n", node, time.Since(start).Round(100*time.Millisecond))
		return nil
	}
	if err := tb.StopMachine(ctx, node); err != nil {
		return err
	}
	fmt.Fprintf(out, " ✓ %s is off (%s)\n", node, time.Since(start).Round(100*time.Millisecond))
	return nil
}

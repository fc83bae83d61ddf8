package stagecli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// runInspect prints every machine (role, site, addresses, hypervisor), the
// tunnels and, with --lab, each container's and VM's state and the WAN
// relay: a table, or with --json the inventory (package inventory) with
// camelCase keys. Without --lab it shows the model from the file and
// contacts no machine, and says so.
//
//	stage inspect -f FILE [--lab] [--json]
func (c *CLI) runInspect(ctx context.Context, args []string, out, errOut io.Writer) error {
	var o options
	var asJSON bool
	fs := c.newFlagSet("inspect", errOut, &o)
	addLabFlags(fs, &o)
	fs.BoolVar(&asJSON, "json", false, "print the inventory as JSON")
	if err := parse(fs, args, &o); err != nil {
		return err
	}
	tb, err := o.open(ctx, errOut, errOut)
	if err != nil {
		return err
	}
	defer tb.Close(ctx)
	inv, err := tb.Inventory(ctx)
	if err != nil {
		return err
	}
	if !asJSON {
		return inv.WriteTable(out)
	}
	data, err := json.Marshal(inv)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, string(data))
	return nil
}

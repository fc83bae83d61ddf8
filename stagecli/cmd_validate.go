package stagecli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/planetstage/planetstage/topology"
)

func (c *CLI) runValidate(ctx context.Context, args []string, out, errOut io.Writer) error {
	var o options
	fs := c.newFlagSet("validate", errOut, &o)
	if err := parse(fs, args, &o); err != nil {
		return err
	}
	t, err := topology.Load(o.file)
	var ferr *topology.FileError
	if errors.As(err, &ferr) {
		fmt.Fprintln(errOut, ferr)
		fmt.Fprintf(errOut, "%s: %d problems; nothing was changed\n", o.file, len(ferr.Problems))
		return exitError{1}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: topology %q is valid: %d sites, %d machines, %d tunnels\n",
		o.file, t.Name, len(t.Sites), len(t.Machines()), t.TunnelCount())
	return nil
}

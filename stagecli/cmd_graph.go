package stagecli

import (
	"context"
	"fmt"
	"io"

	"github.com/planetstage/planetstage/topology"
)

func (c *CLI) runGraph(ctx context.Context, args []string, out, errOut io.Writer) error {
	var o options
	var format string
	fs := c.newFlagSet("graph", errOut, &o)
	fs.StringVar(&format, "format", "dot", "output `FORMAT`: dot or mermaid")
	if err := parse(fs, args, &o); err != nil {
		return err
	}
	t, err := topology.Load(o.file)
	if err != nil {
		return err
	}
	switch format {
	case "dot":
		_, err = io.WriteString(out, topology.DOT(t))
	case "mermaid":
		_, err = io.WriteString(out, topology.Mermaid(t))
	default:
		err = fmt.Errorf("unknown format %q; use dot or mermaid", format)
	}
	return err
}

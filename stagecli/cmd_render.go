package stagecli

import (
	"context"
	"fmt"
	"io"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/layer"
)

func (c *CLI) runRender(ctx context.Context, args []string, out, errOut io.Writer) error {
	var o options
	var host string
	fs := c.newFlagSet("render", errOut, &o)
	addLayerFlags(fs, &o)
	fs.BoolVar(&o.lab, "lab", false, "render the tunnels as the lab runs them: each end's remote is its face of the lab's WAN relay when the topology has latency")
	fs.StringVar(&host, "host", "", "the router or host `NAME` to render for (required)")
	var showSecrets bool
	fs.BoolVar(&showSecrets, "show-secrets", false, "print keys and tokens instead of <redacted>")
	if err := parse(fs, args, &o); err != nil {
		return err
	}
	if host == "" {
		fmt.Fprintln(errOut, "--host NAME is required")
		return errUsage
	}
	t, env, closeEnv, err := o.load(ctx, errOut)
	if err != nil {
		return err
	}
	defer closeEnv()
	env.ShowSecrets = showSecrets
	if o.lab {
		relay, err := lab.RelayFor(t)
		if err != nil {
			return err
		}
		if relay != nil {
			env.TunnelRemotes = relay.Remotes
		}
	}
	arts, err := c.layers().Render(t, env, host, o.layerList()...)
	if err != nil {
		return err
	}
	return layer.WriteArtifacts(out, host, arts)
}

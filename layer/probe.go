package layer

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/tunnel"
)

// TunnelProbeBound is how long a tunnel's probe step waits, once both its
// routers are configured, for an answer through the tunnel: a fresh tunnel
// takes a few seconds to shake hands (more across planetary latency).
const TunnelProbeBound = time.Minute

// tunnelProbe is the step after which tn carries traffic: its first end's
// router pings the other end's transit address, which only the tunnel
// reaches. An apply returns only when what it built works; the steps that
// need other sites depend on these (topology.PathIDs).
func tunnelProbe(t *topology.Topology, env *Env, tn tunnel.Tunnel) plan.Node {
	from, to := tn.Ends[0], tn.Ends[1]
	bound := cmp.Or(env.TunnelProbe, TunnelProbeBound)
	probe := func(ctx context.Context) error {
		r, err := env.Dial(ctx, from.Router)
		if err != nil {
			return fmt.Errorf("router %q: %w", from.Router, err)
		}
		return r.Run(ctx, remote.Cmd{Command: "ping -n -q -c 1 -W 2 " + to.Address.String()})
	}
	return plan.Node{
		ID: topology.TunnelID(from.Site, to.Site),
		Target: fmt.Sprintf("tunnel %s–%s carries traffic (ping %s from %s, up to %s)",
			from.Site, to.Site, to.Address, from.Router, bound),
		Deps: []string{topology.RouterID(from.Router), topology.RouterID(to.Router)},
		Step: plan.Funcs{
			InspectFunc: func(ctx context.Context) (plan.Change, error) {
				if plan.Pending(ctx) {
					return plan.Change{Action: plan.Create, Reason: "probe once both routers are configured"}, nil
				}
				if err := probe(ctx); err != nil {
					return plan.Change{Action: plan.Update, Reason: fmt.Sprintf("no answer through the tunnel: %v", err)}, nil
				}
				return plan.Change{Action: plan.NoOp, Reason: "carries traffic"}, nil
			},
			ApplyFunc: func(ctx context.Context, _ plan.Change) error {
				wait, cancel := context.WithTimeout(ctx, bound)
				defer cancel()
				var err error
				for {
					if err = probe(wait); err == nil {
						return nil
					}
					select {
					case <-ctx.Done():
						return ctx.Err()
					case <-wait.Done():
						if ctx.Err() != nil { // cancelled, not out of time
							return ctx.Err()
						}
						return fmt.Errorf("tunnel %s–%s: %s got no answer from %s through it in %s: %w",
							from.Site, to.Site, from.Router, to.Address, bound, err)
					case <-time.After(time.Second):
					}
				}
			},
		},
	}
}

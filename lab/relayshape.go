package lab

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/wan"
)

// unshaped is paths with no delay, jitter or loss.
func unshaped(paths []wan.PathConfig) []wan.PathConfig {
	out := slices.Clone(paths)
	for i := range out {
		out[i].AtoB, out[i].BtoA = wan.Shape{}, wan.Shape{}
	}
	return out
}

// shapeRelay gives the lab's running WAN relay the shapes of paths (the
// relay's own paths, by name, with other shapes) and returns once every
// tunnel answers through it again. A relay in this process changes at
// once (wan.Path.SetShape); a relay process (Options.RelayCommand) is
// restarted with them on the same ports, which the tunnels ride out.
// While its shapes differ from the topology's, an Apply restarts it with
// the topology's.
func (l *Lab) shapeRelay(ctx context.Context, paths []wan.PathConfig) error {
	l.mu.RLock()
	live := l.liveRelay
	l.mu.RUnlock()
	switch {
	case live != nil:
		var queued time.Duration // the longest a datagram already queued may still wait
		changed := false
		for _, p := range paths {
			lp, ok := live.Path(p.Name)
			if !ok {
				return fmt.Errorf("wan relay: no path %q", p.Name)
			}
			ab, ba := lp.Shape()
			if ab == p.AtoB && ba == p.BtoA {
				continue
			}
			queued = max(queued, ab.Delay+ab.Jitter, ba.Delay+ba.Jitter)
			if err := lp.SetShape(p.AtoB, p.BtoA); err != nil {
				return fmt.Errorf("wan relay: %w", err)
			}
			changed = true
		}
		if !changed {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(queued):
		}
	case l.relayCommand != nil:
		if err := ensureRelayProcess(ctx, l.relayCommand, l.stateDir, paths); err != nil {
			return fmt.Errorf("wan relay on %s: %w", l.relay.Bind, err)
		}
	default:
		return fmt.Errorf("lab %q: the WAN relay runs as a process this Lab did not start, and Options.RelayCommand does not say how to restart it with other shapes", l.name)
	}
	return l.waitTunnels(ctx)
}

// waitTunnels returns once every tunnel of the lab's topology carries a
// ping (its first end's router to the other end's transit address, as
// the routers layer's probe steps do), or fails after
// layer.TunnelProbeBound naming the tunnels that do not.
func (l *Lab) waitTunnels(ctx context.Context) error {
	spec, err := layer.TunnelSpec(l.Topology())
	if err != nil {
		return err
	}
	m, err := tunnel.New(spec)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, layer.TunnelProbeBound)
	defer cancel()
	errs := make([]error, len(m.Tunnels))
	var wg sync.WaitGroup
	for i, tn := range m.Tunnels {
		wg.Go(func() { errs[i] = l.waitTunnel(wctx, tn) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errors.Join(errs...)
}

func (l *Lab) waitTunnel(ctx context.Context, tn tunnel.Tunnel) error {
	from, to := tn.Ends[0], tn.Ends[1]
	var last error
	for {
		r, err := l.Dial(ctx, from.Router)
		if err == nil {
			err = r.Run(ctx, remote.Cmd{Command: "ping -n -q -c 1 -W 2 " + to.Address.String()})
		}
		if err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("tunnel %s–%s: %s got no answer from %s through it: %w", from.Site, to.Site, from.Router, to.Address, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

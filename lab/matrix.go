package lab

import (
	"context"
	"fmt"
	"time"

	"github.com/planetstage/planetstage/reach"
	"github.com/planetstage/planetstage/remote"
)

// Matrix pings, from inside every machine, every other machine's address
// (package reach: 3 echoes, waiting a second plus three of the slowest
// tunnel's RTTs for a reply; a few sources at a time), and reports each
// ordered pair with its average RTT. A machine whose container is not
// running reaches nothing.
func (l *Lab) Matrix(ctx context.Context) (reach.Matrix, error) {
	var targets []reach.Target
	for _, m := range l.Machines() {
		targets = append(targets, reach.Target{Name: m.Name, Address: m.Address})
	}
	mx, err := reach.Measure(ctx, targets, reach.Options{
		Run: func(_ context.Context, name string) (remote.Runner, error) {
			return execRunner{e: l.d, container: l.ContainerName(name), name: name}, nil
		},
		Down: func(ctx context.Context, name string) (bool, error) {
			running, err := l.running(ctx, name)
			return !running, err
		},
		Wait: l.pingWait(),
	})
	if err != nil {
		return reach.Matrix{}, fmt.Errorf("lab %q: matrix: %w", l.name, err)
	}
	return mx, nil
}

// pingWait is how long ping waits for a reply that has not come: a
// second, plus three times the slowest tunnel's RTT through the WAN relay
// (a path crosses at most three tunnels: spoke, hub, hub, spoke).
// With one second for all, the far pairs of a planet-wide lab, half a
// second apart and slower still on a loaded machine, counted as
// unreachable.
func (l *Lab) pingWait() time.Duration {
	var slowest time.Duration
	if l.relay != nil {
		for _, p := range l.relay.Paths {
			slowest = max(slowest, p.AtoB.Delay+p.BtoA.Delay+p.AtoB.Jitter+p.BtoA.Jitter)
		}
	}
	return time.Second + 3*slowest
}

// running reports whether machine name's container runs.
func (l *Lab) running(ctx context.Context, name string) (bool, error) {
	if ok, err := l.containerExists(ctx, name); err != nil || !ok {
		return false, err
	}
	c, err := l.d.inspectContainer(ctx, l.ContainerName(name))
	if err != nil {
		return false, err
	}
	return c.State.Running, nil
}

// MatrixUntil measures the matrix until done accepts it or ctx ends, and
// returns the last matrix measured: tunnels that were just configured take a
// few seconds to shake hands. It returns ctx's error only when no matrix
// was measured at all.
func (l *Lab) MatrixUntil(ctx context.Context, done func(reach.Matrix) bool) (reach.Matrix, error) {
	var last reach.Matrix
	measured := false
	for {
		m, err := l.Matrix(ctx)
		if err != nil {
			if measured && ctx.Err() != nil {
				return last, nil
			}
			return last, err
		}
		last, measured = m, true
		if done(m) {
			return m, nil
		}
		select {
		case <-ctx.Done():
			return last, nil
		case <-time.After(500 * time.Millisecond):
		}
	}
}

package lab

import (
	"context"
	"fmt"
	"time"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/wan"
)

// RelayPath returns the path of the lab's WAN relay that carries the
// tunnel between sites a and b, running, to change while the lab runs
// (wan.Path.SetShape, SetCut). Only a relay this process runs can be
// changed: a relay run as a process of its own (Options.RelayCommand) is
// refused, as is a lab without a relay or a pair without a tunnel of its
// own (spokes in hub-spoke mode reach each other through the hub's).
func (l *Lab) RelayPath(a, b string) (*wan.Path, error) {
	if l.relay == nil {
		return nil, fmt.Errorf("lab %q: no WAN relay (the topology has no latency)", l.name)
	}
	l.mu.RLock()
	relay := l.liveRelay
	l.mu.RUnlock()
	if relay == nil {
		if l.relayCommand != nil {
			return nil, fmt.Errorf("lab %q: the WAN relay runs as a process of its own (Options.RelayCommand); live changes need the relay in this process", l.name)
		}
		return nil, fmt.Errorf("lab %q: the WAN relay does not run in this process", l.name)
	}
	pair := wan.NewPair(a, b)
	p, ok := relay.Path(pair.String())
	if !ok {
		return nil, fmt.Errorf("lab %q: no tunnel between sites %q and %q on the WAN relay", l.name, a, b)
	}
	return p, nil
}

// StopMachine stops machine name's container (docker stop: SIGTERM, then
// SIGKILL after timeout). Its addresses stay reserved; StartMachine starts
// it again. The SSH connection Dial holds to it is closed.
func (l *Lab) StopMachine(ctx context.Context, name string, timeout time.Duration) error {
	if _, ok := l.Machine(name); !ok {
		return fmt.Errorf("lab %q: no machine %q", l.name, name)
	}
	l.forgetRunner(name)
	secs := max(int(timeout/time.Second), 0)
	if err := l.d.stopContainer(ctx, l.ContainerName(name), uint(secs)); err != nil {
		return fmt.Errorf("machine %q: stop: %w", name, err)
	}
	return nil
}

// StartMachine starts machine name's stopped container again (Start: its
// routes set again) and waits until a command runs over SSH. The container boots afresh: what apply started
// in it as processes (OpenVPN on a router, services on a node) does not
// come back by itself; Apply starts it again.
func (l *Lab) StartMachine(ctx context.Context, name string) error {
	if _, ok := l.Machine(name); !ok {
		return fmt.Errorf("lab %q: no machine %q", l.name, name)
	}
	l.forgetRunner(name)
	// Start, as a reboot: the container, its routes, its sshd's banner.
	if err := l.Start(ctx, name); err != nil {
		return fmt.Errorf("machine %q: %w", name, err)
	}
	var last error
	for ctx.Err() == nil {
		r, err := l.Dial(ctx, name)
		if err == nil {
			if _, err = remote.Output(ctx, r, "true"); err == nil {
				return nil
			}
		}
		last = err
		l.forgetRunner(name)
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("machine %q: started, but sshd does not answer: %w", name, last)
}

// forgetRunner closes and drops the SSH connection Dial keeps to name.
func (l *Lab) forgetRunner(name string) {
	l.dialMu.Lock()
	defer l.dialMu.Unlock()
	if r, ok := l.runners[name]; ok {
		_ = r.Close()
		delete(l.runners, name)
	}
}

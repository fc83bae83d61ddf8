package lab

import (
	"context"
	"errors"
	"fmt"
	"github.com/planetstage/planetstage/layer"
	"net/netip"
	"sync"

	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// RelayBasePort is the first UDP port of the lab's WAN relay: tunnel i's
// path (in pair order, see wan.PlanRelay) faces its two routers on
// RelayBasePort+2i and RelayBasePort+2i+1.
const RelayBasePort = 40000

// Relay is where the lab's user-space WAN runs: one relay path per tunnel
// (package wan), listening on the host's address on the underlay (the
// underlay bridge's gateway), and for each tunnel end the relay face its
// OpenVPN remote points at instead of the peer. The kernel here has no
// netem, so this is how the lab gives the tunnels the latency of real
// distances: every tunnel datagram crosses the relay, which holds it for
// the site pair's one-way delay.
type Relay struct {
	// Bind is the host's address on the underlay.
	Bind netip.Addr
	// Paths are the relay's paths, as wan.ListenRelay takes them.
	Paths []wan.PathConfig
	// Remotes is each tunnel end's relay face; layer.Env.TunnelRemotes.
	Remotes map[layer.RelayEnd]netip.AddrPort
}

// RelayFor returns the WAN relay the lab places for t, or nil when t has no
// latency (no site has a location and there is no latency section) or no
// vpn. It needs no running lab: the addresses and ports depend only on t,
// so a lab brought up by one process and attached to by another agree.
func RelayFor(t *topology.Topology) (*Relay, error) {
	model := t.LatencyModel()
	if model == nil || t.VPN == nil {
		return nil, nil
	}
	spec := SpecFrom(t)
	used := map[netip.Addr]bool{}
	for _, m := range spec.Machines() {
		for _, a := range m.Addresses {
			used[a] = true
		}
	}
	bind, err := gateway(spec.Underlay, used)
	if err != nil {
		return nil, fmt.Errorf("lab %q: wan relay: underlay: %w", t.Name, err)
	}
	paths, remotes, err := layer.RelayPlan(t, &layer.Env{Latency: model}, bind, RelayBasePort)
	if err != nil {
		return nil, fmt.Errorf("lab %q: wan relay: %w", t.Name, err)
	}
	if len(paths) == 0 {
		return nil, nil
	}
	return &Relay{Bind: bind, Paths: paths, Remotes: remotes}, nil
}

// Ports returns the first and last port the relay listens on.
func (r *Relay) Ports() (first, last uint16) {
	first, last = 0xffff, 0
	for _, p := range r.Paths {
		for _, ap := range []netip.AddrPort{p.ListenA, p.ListenB} {
			first, last = min(first, ap.Port()), max(last, ap.Port())
		}
	}
	return first, last
}

// RelayRunner starts the relay's paths and returns how to stop them. The
// bind address exists on this machine once the lab's networks do.
type RelayRunner func(ctx context.Context, paths []wan.PathConfig) (stop func() error, err error)

// InProcessRelay runs the relay in this process, until stop is called (Down
// does) or the process ends. A program that leaves the lab up when it
// exits (stage apply --lab) runs the relay as a process of its own instead
// (Options.RunRelay), or the tunnels lose their path when it exits.
func InProcessRelay(ctx context.Context, paths []wan.PathConfig) (func() error, error) {
	relay, err := wan.ListenRelay(ctx, paths)
	if err != nil {
		return nil, err
	}
	// The relay lives as long as the lab, not as long as the call that
	// brought the lab up.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- relay.Run(runCtx) }()
	var once sync.Once
	var stopErr error
	return func() error {
		once.Do(func() {
			cancel()
			err := <-done
			if errors.Is(err, context.Canceled) {
				err = nil
			}
			stopErr = errors.Join(err, relay.Close())
		})
		return stopErr
	}, nil
}

// startRelay runs the lab's relay with the Options' runner.
func (l *Lab) startRelay(ctx context.Context) error {
	if l.relay == nil {
		return nil
	}
	run := l.runRelay
	if run == nil {
		run = InProcessRelay
	}
	for i := range l.relay.Paths {
		l.relay.Paths[i].Log = l.log
	}
	stop, err := run(ctx, l.relay.Paths)
	if err != nil {
		return fmt.Errorf("wan relay on %s: %w", l.relay.Bind, err)
	}
	l.stopRelay = stop
	return nil
}

// Relay returns the WAN relay the lab places (nil when its topology has no
// latency). Env points the tunnels at it.
func (l *Lab) Relay() *Relay { return l.relay }

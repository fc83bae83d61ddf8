package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/planetstage/planetstage/layer"
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
// OpenVPN remote or WireGuard endpoint points at instead of the peer. The kernel here has no
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

// startRelay runs the lab's relay: as a process of its own when
// Options.RelayCommand says how, else in this process until Down.
func (l *Lab) startRelay(ctx context.Context) error {
	if l.relay == nil {
		return nil
	}
	if l.relayCommand != nil {
		if err := ensureRelayProcess(ctx, l.relayCommand, l.stateDir, l.relay.Paths); err != nil {
			return fmt.Errorf("wan relay on %s: %w", l.relay.Bind, err)
		}
		return nil
	}
	if l.stopRelay != nil {
		if l.relayUpToDate() {
			return nil
		}
		// The topology changed its tunnels (mode, ports, kind): the
		// relay's paths go with them.
		if err := l.stopRelay(); err != nil {
			return fmt.Errorf("wan relay on %s: stop the old paths: %w", l.relay.Bind, err)
		}
		l.stopRelay = nil
	}
	paths := slices.Clone(l.relay.Paths)
	for i := range paths {
		paths[i].Log = l.log
	}
	relay, err := wan.ListenRelay(ctx, paths)
	if err != nil {
		return fmt.Errorf("wan relay on %s: %w", l.relay.Bind, err)
	}
	l.relayStarted = relayConfig(l.relay.Paths)
	// The relay lives as long as the lab, not as long as the call that
	// brought the lab up.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- relay.Run(runCtx) }()
	var once sync.Once
	var stopErr error
	l.mu.Lock()
	l.liveRelay = relay
	l.mu.Unlock()
	l.stopRelay = func() error {
		once.Do(func() {
			cancel()
			err := <-done
			if errors.Is(err, context.Canceled) {
				err = nil
			}
			stopErr = errors.Join(err, relay.Close())
		})
		return stopErr
	}
	return nil
}

// relayConfig is paths as the relay process's configuration file holds
// them, the form in which two relays' paths are compared.
func relayConfig(paths []wan.PathConfig) []byte {
	data, err := json.MarshalIndent(wan.RelayFile{Paths: paths}, "", "  ")
	if err != nil {
		return nil
	}
	return data
}

// relayUpToDate reports whether the lab's relay runs with the paths of
// the lab's topology: an edited topology (another tunnel mode, port or
// kind) re-applied to a running lab needs the relay restarted.
func (l *Lab) relayUpToDate() bool {
	switch {
	case l.relay == nil:
		return true
	case l.stopRelay != nil:
		return bytes.Equal(l.relayStarted, relayConfig(l.relay.Paths))
	}
	if _, ok := relayPID(l.stateDir); !ok {
		return false
	}
	old, err := os.ReadFile(filepath.Join(l.stateDir, relayConfigFile))
	return err == nil && bytes.Equal(old, relayConfig(l.relay.Paths))
}

// RelayRunning reports whether the lab's WAN relay runs: in this process,
// or as the process Options.RelayCommand started (found through its pid
// file). A lab without latency has no relay, and then it is true.
func (l *Lab) RelayRunning() bool {
	if l.relay == nil {
		return true
	}
	if l.stopRelay != nil {
		return true
	}
	_, ok := relayPID(l.stateDir)
	return ok
}

// stopRelays stops the relay this Lab runs in-process, and the relay
// process of the lab's state directory.
func (l *Lab) stopRelays(ctx context.Context) error {
	var errs []error
	if l.stopRelay != nil {
		errs = append(errs, l.stopRelay())
		l.stopRelay = nil
		l.mu.Lock()
		l.liveRelay = nil
		l.mu.Unlock()
	}
	errs = append(errs, stopRelayProcess(ctx, l.stateDir))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop the wan relay: %w", err)
	}
	return nil
}

// Relay returns the WAN relay the lab places (nil when its topology has no
// latency). Env points the tunnels at it.
func (l *Lab) Relay() *Relay { return l.relay }

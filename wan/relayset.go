package wan

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"sync"
)

// Tunnel is one site pair's tunnel as the relay sees it: the routers'
// tunnel sockets and the link to put between them.
type Tunnel struct {
	// Pair names the sites; A is the router of Pair.A.
	Pair Pair
	Link Link
	// A and B are the routers' own tunnel sockets: WAN address and the
	// local port OpenVPN listens on for this tunnel.
	A, B netip.AddrPort
}

// PlanRelay lays out one relay path per tunnel, sorted by pair, all
// listening on bind: path i faces A on basePort+2i and B on basePort+2i+1.
// The ports depend only on the tunnels, so the routers' configuration
// (whose remote is the relay's face) stays the same from run to run. Seed
// seeds every path, each with its own stream. Paths ask for realtime
// priority.
func PlanRelay(bind netip.Addr, basePort uint16, tunnels []Tunnel, seed uint64) ([]PathConfig, error) {
	if !bind.IsValid() {
		return nil, errors.New("relay: bind address missing")
	}
	if basePort == 0 || int(basePort)+2*len(tunnels) > math.MaxUint16+1 {
		return nil, fmt.Errorf("relay: base port %d leaves no room for %d tunnels", basePort, len(tunnels))
	}
	sorted := slices.Clone(tunnels)
	slices.SortFunc(sorted, func(x, y Tunnel) int {
		return strings.Compare(x.Pair.A+"\x00"+x.Pair.B, y.Pair.A+"\x00"+y.Pair.B)
	})
	var errs []error
	paths := make([]PathConfig, len(sorted))
	for i, t := range sorted {
		if i > 0 && sorted[i-1].Pair == t.Pair {
			errs = append(errs, fmt.Errorf("relay: tunnel %s appears twice", t.Pair))
		}
		if err := t.Link.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("relay: tunnel %s: %w", t.Pair, err))
		}
		port := basePort + uint16(2*i)
		paths[i] = PathConfig{
			Name:    t.Pair.String(),
			ListenA: netip.AddrPortFrom(bind, port),
			ListenB: netip.AddrPortFrom(bind, port+1),
			PeerA:   t.A,
			PeerB:   t.B,
			AtoB:    t.Link.OneWay(),
			BtoA:    t.Link.OneWay(),
			Seed:    seed + uint64(i),
			// Best effort; a lab on a busy machine needs it (see Path).
			Realtime: true,
		}
	}
	return paths, errors.Join(errs...)
}

// Relay runs many paths: the WAN of a whole topology.
type Relay struct {
	paths []*Path
}

// ListenRelay opens every path's sockets; if one fails, the ones already
// opened are closed again.
func ListenRelay(ctx context.Context, cfgs []PathConfig) (*Relay, error) {
	r := &Relay{}
	for _, cfg := range cfgs {
		p, err := ListenPath(ctx, cfg)
		if err != nil {
			r.Close()
			return nil, err
		}
		r.paths = append(r.paths, p)
	}
	return r, nil
}

// Run relays on every path until ctx is done.
func (r *Relay) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(r.paths))
	for i, p := range r.paths {
		wg.Go(func() { errs[i] = p.Run(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close closes every path's sockets.
func (r *Relay) Close() error {
	var errs []error
	for _, p := range r.paths {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}

// Stats returns each path's counters by path name.
func (r *Relay) Stats() map[string]PathStats {
	out := make(map[string]PathStats, len(r.paths))
	for _, p := range r.paths {
		out[p.name] = p.Stats()
	}
	return out
}

// Path returns the path called name (PathConfig.Name; for PlanRelay's
// paths the site pair, Pair.String).
func (r *Relay) Path(name string) (*Path, bool) {
	for _, p := range r.paths {
		if p.name == name {
			return p, true
		}
	}
	return nil, false
}

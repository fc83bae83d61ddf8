package lab

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// Latency is a latency setting of a tunnel-kind comparison.
type Latency string

const (
	// NoLatency measures the tunnels with no emulated latency: the WAN
	// relay's paths run with their shaping off (no delay, jitter or loss),
	// so the tunnels still cross the relay, in user space, as with
	// latency; a lab without latency has no relay, and its tunnels cross
	// the underlay directly.
	NoLatency Latency = "none"
	// TopologyLatency measures them with the topology's own latency (its
	// sites' locations, or its latency section) on the relay.
	TopologyLatency Latency = "topology"
)

// DefaultCompareThroughput is how long each iperf3 run of a comparison
// lasts when CompareOptions.Measure.Throughput is zero.
const DefaultCompareThroughput = 3 * time.Second

// CompareOptions tune CompareTunnelKinds.
type CompareOptions struct {
	// Kinds are the tunnel kinds (vpn.type) to measure, in the order the
	// result lists them; openvpn and wireguard when empty.
	Kinds []string
	// Latencies are the latency settings to measure each kind under;
	// NoLatency and TopologyLatency when empty (NoLatency alone for a lab
	// whose topology has no latency).
	Latencies []Latency
	// Measure tunes each measurement (layer.MeasureWAN; the lab counts
	// each router's CPU from its container's cgroup). Its Throughput is
	// DefaultCompareThroughput when zero; negative skips throughput and
	// CPU.
	Measure layer.MeasureOptions
}

// Comparison is CompareTunnelKinds' result: every kind measured on the
// same lab under every latency setting.
type Comparison struct {
	// Topology is the lab's topology's name.
	Topology string `json:"topology"`
	// Kinds and Latencies are what was asked for, in order.
	Kinds     []string  `json:"kinds"`
	Latencies []Latency `json:"latencies"`
	// Runs are the measurements, one per kind and latency setting that
	// could be measured, kind by kind.
	Runs []KindRun `json:"runs"`
	// Direct is the RTT between the same routers' underlay addresses, with
	// no tunnel and no relay: the floor a tunnel's overhead is counted
	// from.
	Direct []wan.SiteResult `json:"direct,omitempty"`
	// Switches are the re-applies that put each kind on the lab, and the
	// one that restored Restored, with how long each took until every
	// pair of machines answered.
	Switches []KindSwitch `json:"switches"`
	// Restored is the kind the lab runs at the end, the topology's own;
	// empty when restoring it failed (the error says why).
	Restored string `json:"restored"`
	// WithoutLatency says how NoLatency was made on this lab.
	WithoutLatency string `json:"withoutLatency"`
}

// KindRun is one kind measured under one latency setting.
type KindRun struct {
	Kind    string  `json:"kind"`
	Latency Latency `json:"latency"`
	wan.Report
}

// KindSwitch is one re-apply of the routers and wan layers that put a
// kind on the lab.
type KindSwitch struct {
	Kind    string  `json:"kind"`
	Seconds float64 `json:"seconds"`
	// Changed counts the steps the apply created, updated or deleted: 0
	// when the lab ran the kind already.
	Changed int `json:"changed"`
	// Restore marks the last switch, back to the topology's own kind.
	Restore bool `json:"restore,omitempty"`
}

// The phases CompareTunnelKinds reports through Options.Progress.
const (
	PhaseTunnelKind Phase = "Switching the tunnels to"
	PhaseRelayShape Phase = "Shaping the WAN relay"
	PhaseMeasure    Phase = "Measuring"
)

// CompareTunnelKinds measures the lab's tunnels under each kind asked for,
// side by side on the same machines, relay and topology: for each kind it
// re-applies the routers and wan layers of the topology with that
// vpn.type (the other kinds' tunnels, daemons and routes swept away, as
// when a file is edited and applied again), waits until every pair of
// machines answers, and measures per tunnel the RTT, TCP throughput and
// the busier router's CPU (l.MeasureWAN) under each latency setting:
// NoLatency turns the WAN relay's shaping off while the lab runs
// (wan.Path.SetShape; a relay run as a process of its own, with
// Options.RelayCommand, is restarted on the same ports with its shaping
// off), TopologyLatency turns it back on. It also pings the routers'
// underlay addresses directly once, the floor of each tunnel's RTT
// overhead. At the end it restores the relay's shaping and the kind the
// lab's topology has, even when ctx was cancelled or a measurement failed
// (within five minutes); the lab is then as before, and a re-apply
// changes nothing.
//
// Every kind and setting is checked before anything changes: a kind that
// is not built in (layer.TunnelKinds), one the topology cannot run
// (topology.Validate refuses it with that vpn.type), or TopologyLatency on a lab whose
// topology has no latency is an error that names it, and nothing changes.
// A kind whose switch fails is left out and its error returned with what
// the others measured. It must not run beside Apply or Grow on the same
// Lab.
func (l *Lab) CompareTunnelKinds(ctx context.Context, o CompareOptions) (c Comparison, err error) {
	own := l.Topology()
	if own == nil || own.VPN == nil {
		return c, fmt.Errorf("lab %q: CompareTunnelKinds needs a lab made from a topology with a vpn", l.name)
	}
	plans, err := l.comparePlan(own, &o)
	if err != nil {
		return c, err
	}
	if l.relay != nil && !l.RelayRunning() {
		return c, fmt.Errorf("lab %q: the WAN relay (%s) does not run, so the tunnels have no path; apply again to restart it", l.name, l.relay.Bind)
	}
	c = Comparison{Topology: own.Name, Kinds: o.Kinds, Latencies: o.Latencies,
		WithoutLatency: "no WAN relay: the tunnels cross the underlay directly"}
	if l.relay != nil {
		c.WithoutLatency = "the WAN relay's paths with their shaping off: the tunnels still cross the relay in user space"
	}
	ownRelay := l.relay
	var errs []error
	defer func() {
		// Back to the topology's kind and latency, whatever happened: a
		// cancelled comparison must not leave the lab on another kind.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		defer cancel()
		sw, serr := l.switchKind(rctx, own, ownRelay)
		if serr == nil {
			sw.Restore, c.Restored = true, sw.Kind
			c.Switches = append(c.Switches, sw)
		}
		errs = append(errs, serr)
		// An apply restarts a relay whose paths changed (another kind's
		// ports, a relay process with other shapes), but leaves a relay in
		// this process with the same paths as it is: shaped off, maybe.
		if l.relay != nil {
			errs = append(errs, l.phaseDetail(PhaseRelayShape, "with the topology's latency", func() error { return l.shapeRelay(rctx, l.relay.Paths) }))
		}
		err = errors.Join(errs...)
	}()
	runs := map[string][]KindRun{}
	for _, kind := range measureOrder(o.Kinds, own.VPN.Type) {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		sw, err := l.switchKind(ctx, plans[kind], nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", kind, err))
			continue
		}
		c.Switches = append(c.Switches, sw)
		for _, lat := range o.Latencies {
			rep, err := l.measureUnder(ctx, kind, lat, o.Measure)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s, latency %s: %w", kind, lat, err))
			}
			if len(rep.Sites) > 0 || len(rep.Tunnels) > 0 {
				runs[kind] = append(runs[kind], KindRun{Kind: kind, Latency: lat, Report: rep})
			}
		}
		if c.Direct == nil {
			c.Direct, err = l.directRTT(ctx, runs[kind], o.Measure)
			errs = append(errs, err)
		}
	}
	for _, kind := range o.Kinds {
		c.Runs = append(c.Runs, runs[kind]...)
	}
	return c, nil
}

// comparePlan fills in o's defaults and returns the topology of each kind,
// or an error naming every kind or setting that cannot be measured.
func (l *Lab) comparePlan(own *topology.Topology, o *CompareOptions) (map[string]*topology.Topology, error) {
	if len(o.Kinds) == 0 {
		o.Kinds = []string{topology.VPNTypeOpenVPN, topology.VPNTypeWireGuard}
	}
	if len(o.Latencies) == 0 {
		o.Latencies = []Latency{NoLatency}
		if l.relay != nil {
			o.Latencies = append(o.Latencies, TopologyLatency)
		}
	}
	if o.Measure.Throughput == 0 {
		o.Measure.Throughput = DefaultCompareThroughput
	}
	known := layer.TunnelKinds()
	var errs []error
	plans := map[string]*topology.Topology{}
	for _, kind := range o.Kinds {
		if _, ok := known[kind]; !ok {
			errs = append(errs, fmt.Errorf("tunnel kind %q: not a kind the lab runs; kinds are %s", kind, strings.Join(slices.Sorted(maps.Keys(known)), ", ")))
			continue
		}
		if _, dup := plans[kind]; dup {
			errs = append(errs, fmt.Errorf("tunnel kind %q: asked for twice", kind))
			continue
		}
		t := withTunnelKind(own, kind)
		if err := t.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("tunnel kind %q: the topology cannot run it: %w", kind, err))
			continue
		}
		plans[kind] = t
	}
	seen := map[Latency]bool{}
	for _, lat := range o.Latencies {
		switch {
		case lat != NoLatency && lat != TopologyLatency:
			errs = append(errs, fmt.Errorf("latency %q: want %q or %q", lat, NoLatency, TopologyLatency))
		case seen[lat]:
			errs = append(errs, fmt.Errorf("latency %q: asked for twice", lat))
		case lat == TopologyLatency && l.relay == nil:
			errs = append(errs, fmt.Errorf("latency %q: topology %q has no latency (no site has a location and there is no latency section), so the lab has no WAN relay to give its tunnels any", lat, own.Name))
		}
		seen[lat] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("lab %q: compare tunnel kinds: %w", l.name, err)
	}
	return plans, nil
}

// withTunnelKind is t with its tunnels of kind: the same sites, mode,
// hubs and transit prefix; the kind's default port when t has the default
// of its own kind (else t's port); OpenVPN's default auth; no settings of
// another kind.
func withTunnelKind(t *topology.Topology, kind string) *topology.Topology {
	c := t.Clone()
	if c.VPN.Type == kind {
		return c
	}
	if c.VPN.Port == defaultVPNPort(c.VPN.Type) {
		c.VPN.Port = 0
	}
	c.VPN.Type, c.VPN.Auth = kind, ""
	if kind != topology.VPNTypeWireGuard {
		c.VPN.WireGuard = nil
	}
	c.SetDefaults()
	return c
}

func defaultVPNPort(kind string) int {
	if kind == topology.VPNTypeWireGuard {
		return topology.DefaultWireGuardPort
	}
	return topology.DefaultVPNPort
}

// measureOrder is kinds with the lab's own kind first: it needs no switch.
func measureOrder(kinds []string, own string) []string {
	out := slices.Clone(kinds)
	if i := slices.Index(out, own); i > 0 {
		out = slices.Insert(slices.Delete(out, i, i+1), 0, own)
	}
	return out
}

// switchKind makes t (the lab's topology with another vpn.type, or its
// own) the topology the lab runs, with relay (nil: t's), and applies the
// routers and wan layers: the other kinds' tunnels are swept away, the
// relay is restarted for the new tunnels' ports, and it returns once every
// pair of machines answers.
func (l *Lab) switchKind(ctx context.Context, t *topology.Topology, relay *Relay) (KindSwitch, error) {
	if relay == nil {
		var err error
		if relay, err = RelayFor(t); err != nil {
			return KindSwitch{}, err
		}
	}
	topo, notes := l.adapted(t)
	l.mu.Lock()
	l.topo, l.notes, l.relay = topo, notes, relay
	l.mu.Unlock()
	sw := KindSwitch{Kind: t.VPN.Type}
	start := time.Now()
	err := l.phaseDetail(PhaseTunnelKind, t.VPN.Type, func() error {
		res, err := l.Apply(ctx, ApplyOptions{Layers: []string{layer.Routers, layer.WAN}})
		if res != nil {
			s := res.Summary()
			sw.Changed = s.Created + s.Updated + s.Deleted
		}
		return err
	})
	sw.Seconds = time.Since(start).Seconds()
	return sw, err
}

// measureUnder shapes the relay for lat and measures the lab's tunnels,
// against a target of zero without latency.
func (l *Lab) measureUnder(ctx context.Context, kind string, lat Latency, o layer.MeasureOptions) (wan.Report, error) {
	var targets *wan.Model
	if l.relay != nil {
		paths := l.relay.Paths
		detail := "with the topology's latency"
		if lat == NoLatency {
			paths, detail = unshaped(paths), "off"
		}
		if err := l.phaseDetail(PhaseRelayShape, detail, func() error { return l.shapeRelay(ctx, paths) }); err != nil {
			return wan.Report{}, err
		}
	}
	if lat == NoLatency {
		targets = &wan.Model{} // nothing emulated: every target is 0
	}
	if o.Throughput < 0 {
		o.Throughput = 0
	}
	var rep wan.Report
	err := l.phaseDetail(PhaseMeasure, fmt.Sprintf("%s, latency %s", kind, lat), func() error {
		var err error
		rep, err = l.MeasureWAN(ctx, o, targets)
		return err
	})
	return rep, err
}

// directRTT pings, from each measured pair's first router, the other
// router's underlay address: no tunnel, no relay.
func (l *Lab) directRTT(ctx context.Context, runs []KindRun, o layer.MeasureOptions) ([]wan.SiteResult, error) {
	t := l.Topology()
	seen := map[wan.Pair]bool{}
	var probes []wan.SiteProbe
	var errs []error
	for _, run := range runs {
		for _, s := range run.Sites {
			from, okFrom := t.Site(s.From)
			to, okTo := t.Site(s.To)
			pair := wan.NewPair(s.From, s.To)
			if !okFrom || !okTo || seen[pair] {
				continue
			}
			seen[pair] = true
			r, err := l.Dial(ctx, from.Router.Name)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			probes = append(probes, wan.SiteProbe{From: s.From, To: s.To, Runner: r, Addr: to.Router.WAN})
		}
	}
	if len(probes) == 0 {
		return nil, errors.Join(errs...)
	}
	var out []wan.SiteResult
	err := l.phaseDetail(PhaseMeasure, "the routers' direct RTT", func() error {
		var err error
		out, err = wan.MeasureSites(ctx, probes, cmp.Or(o.Pings, 20), cmp.Or(o.Interval, 200*time.Millisecond))
		return err
	})
	return out, errors.Join(append(errs, err)...)
}

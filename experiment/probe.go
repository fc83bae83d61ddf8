package experiment

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/wan"
)

// RTTSample is one probe of one site pair: pings from the first site's
// router to the second's (its tunnel address where a tunnel joins them,
// else its LAN address), against the RTT the testbed's shapes give the
// path at that moment. A pair that answered nothing has Received 0 and no
// RTTs; Error says why.
type RTTSample struct {
	Time     time.Time `json:"time"`
	OffsetMs float64   `json:"offsetMs"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	TargetMs float64   `json:"targetMs"`
	Sent     int       `json:"sent"`
	Received int       `json:"received"`
	MinMs    *float64  `json:"minMs,omitempty"`
	MedianMs *float64  `json:"medianMs,omitempty"`
	MaxMs    *float64  `json:"maxMs,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// LossPct is the share of pings unanswered, in percent.
func (s RTTSample) LossPct() float64 {
	if s.Sent == 0 {
		return 100
	}
	return 100 * float64(s.Sent-s.Received) / float64(s.Sent)
}

// MetricSample is one value of the system under test's own (Options.Metrics).
type MetricSample struct {
	Time     time.Time `json:"time"`
	OffsetMs float64   `json:"offsetMs"`
	Name     string    `json:"name"`
	Value    float64   `json:"value"`
}

// probeTarget is where a site pair's probe pings.
type probeTarget struct {
	from, to string
	router   string
	addr     netip.Addr
}

// probeTargets lists every pair of sites, each once in site order.
func probeTargets(r *Run) ([]probeTarget, error) {
	spec, err := layer.TunnelSpec(r.topo)
	if err != nil {
		return nil, err
	}
	m, err := tunnel.New(spec)
	if err != nil {
		return nil, err
	}
	var out []probeTarget
	for i, a := range m.Spec.Sites {
		for _, b := range m.Spec.Sites[i+1:] {
			p := probeTarget{from: a.Name, to: b.Name, router: a.Router, addr: b.LAN}
			for _, tn := range m.TunnelsOf(a.Name) {
				if _, peer, _ := tn.Local(a.Name); peer.Site == b.Name {
					p.addr = peer.Address
				}
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// targetRTT is the RTT the testbed's current shapes give the path between
// from and to: the sum of both directions' delays over its tunnels; 0 when
// the testbed cannot say.
func (r *Run) targetRTT(from, to string) time.Duration {
	path := r.topo.SitePath(from, to)
	var sum time.Duration
	for i := 1; i < len(path); i++ {
		ab, ba, err := r.tb.Shape(path[i-1], path[i])
		if err != nil {
			return 0
		}
		sum += ab.Delay + ba.Delay
	}
	return sum
}

func (r *Run) probeLoop(ctx context.Context) {
	targets, err := probeTargets(r)
	if err != nil {
		r.fail(fmt.Errorf("experiment: probes: %w", err))
		return
	}
	tick := time.NewTicker(r.opts.ProbeInterval)
	defer tick.Stop()
	for {
		r.probeOnce(ctx, targets)
		r.flush()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// probeOnce probes every pair at once and the system's metrics.
func (r *Run) probeOnce(ctx context.Context, targets []probeTarget) {
	now := time.Now()
	samples := make([]RTTSample, len(targets))
	var wg sync.WaitGroup
	for i, p := range targets {
		wg.Go(func() { samples[i] = r.probe(ctx, p, now) })
	}
	var metrics []MetricSample
	if r.opts.Metrics != nil {
		wg.Go(func() {
			vals, err := r.opts.Metrics(ctx)
			if err != nil {
				r.log.Warn("experiment metrics", "err", err)
			}
			for _, name := range slices.Sorted(maps.Keys(vals)) {
				metrics = append(metrics, MetricSample{Time: now, OffsetMs: ms(now.Sub(r.start)), Name: name, Value: vals[name]})
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return // a probe cut short by the end of the run measures nothing
	}
	r.mu.Lock()
	r.rtts = append(r.rtts, samples...)
	r.metrics = append(r.metrics, metrics...)
	r.mu.Unlock()
}

func (r *Run) probe(ctx context.Context, p probeTarget, now time.Time) RTTSample {
	s := RTTSample{Time: now, OffsetMs: ms(now.Sub(r.start)), From: p.from, To: p.to,
		TargetMs: ms(r.targetRTT(p.from, p.to)), Sent: r.opts.Pings}
	runner, err := r.tb.Dial(ctx, p.router)
	if err != nil {
		s.Error = err.Error()
		return s
	}
	got, err := wan.Ping(ctx, runner, p.addr, r.opts.Pings, r.opts.PingInterval)
	if got.Sent > 0 {
		s.Sent = got.Sent
	}
	s.Received = got.Received
	if err != nil {
		s.Error = err.Error()
		return s
	}
	lo, med, hi := ms(got.Min), ms(got.Median), ms(got.Max)
	s.MinMs, s.MedianMs, s.MaxMs = &lo, &med, &hi
	return s
}

package wan

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/planetstage/planetstage/remote"
)

// Report is what `stage verify --measure` adds to verify's JSON.
type Report struct {
	Sites   []SiteResult   `json:"sites"`
	Tunnels []TunnelResult `json:"tunnels"`
	// TunnelsSkipped says why Tunnels is empty when the throughput was
	// not measured (not asked for, or iperf3 missing on a router), so
	// that an empty list is never mistaken for a measurement.
	TunnelsSkipped string `json:"tunnelsSkipped,omitempty"`
	// Sample says which site pairs Sites has when not every tunnel's or
	// every pair's ("48 of 1225 site pairs: …").
	Sample string `json:"sample,omitempty"`
}

// HasCommand reports whether name is a command on r's machine.
func HasCommand(ctx context.Context, r remote.Runner, name string) (bool, error) {
	out, err := remote.Output(ctx, r, "command -v "+remote.ShellQuote(name)+" >/dev/null && echo yes || echo no")
	if err != nil {
		return false, fmt.Errorf("%s: look for %s: %w", r.Host(), name, err)
	}
	return strings.TrimSpace(out) == "yes", nil
}

// SiteProbe is one site pair to measure: From's machine pings an address
// in To's site through the tunnel.
type SiteProbe struct {
	From, To string
	// Target is the RTT the latency model wants.
	Target time.Duration
	// Runner acts on a machine at From (its router, or a host).
	Runner remote.Runner
	// Addr is an address at To that is reached through the tunnel (the
	// peer router's tunnel or LAN address, or a host).
	Addr netip.Addr
	// Path is the sites between From and To, both included, when the
	// traffic crosses more than one tunnel; it goes into the result.
	Path []string
}

// maxPingsAtOnce bounds MeasureSites' fan-out: each probe is a session on
// a router, and a 50-site testbed has 1 225 site pairs.
const maxPingsAtOnce = 64

// MeasureSites pings every probe's address count times, interval apart,
// up to 64 probes at once (pings are light, sessions less so), and returns
// a result per probe in probe order. Probes that fail are left out and
// their errors, naming the pair, joined.
func MeasureSites(ctx context.Context, probes []SiteProbe, count int, interval time.Duration) ([]SiteResult, error) {
	results := make([]*SiteResult, len(probes))
	errs := make([]error, len(probes))
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxPingsAtOnce)
	for i, p := range probes {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			s, err := Ping(ctx, p.Runner, p.Addr, count, interval)
			if err != nil {
				errs[i] = fmt.Errorf("sites %s -> %s: %w", p.From, p.To, err)
				return
			}
			r := NewSiteResult(p.From, p.To, p.Target, s.Median)
			r.Path = p.Path
			results[i] = &r
		})
	}
	wg.Wait()
	var out []SiteResult
	for _, r := range results {
		if r != nil {
			out = append(out, *r)
		}
	}
	return out, errors.Join(errs...)
}

// TunnelProbe is one tunnel to measure, from the client router to the
// server router.
type TunnelProbe struct {
	From, To       string
	Client, Server remote.Runner
	// TunnelAddr is the server router's address inside the tunnel;
	// DirectAddr its underlay address, the same two routers without the
	// tunnel.
	TunnelAddr, DirectAddr netip.Addr
	// ClientCPU and ServerCPU count the routers' CPU time; nil skips one.
	ClientCPU, ServerCPU CPUCounter
	// Port is iperf3's port on the server for the tunnel run, Port+1 for
	// the direct run; 0 means 5201.
	Port int
}

// MeasureTunnels measures each probe's TCP throughput for d through the
// tunnel (recording the routers' CPU meanwhile) and then directly, one
// probe at a time so that runs do not share CPU. RouterCPUPct is the
// busier router's, in percent of one core. Failed probes are left out and
// their errors joined.
//
// In the lab the direct path crosses the underlay without the relay, so
// it has no emulated latency: the ratio mixes the VPN's cost with the
// latency's effect on TCP. On hardware both paths cross the same WAN.
func MeasureTunnels(ctx context.Context, probes []TunnelProbe, d time.Duration) ([]TunnelResult, error) {
	var (
		out  []TunnelResult
		errs []error
	)
	for _, p := range probes {
		r, err := measureTunnel(ctx, p, d)
		if err != nil {
			errs = append(errs, fmt.Errorf("tunnel %s -> %s: %w", p.From, p.To, err))
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

func measureTunnel(ctx context.Context, p TunnelProbe, d time.Duration) (TunnelResult, error) {
	port := p.Port
	if port == 0 {
		port = 5201
	}
	r := TunnelResult{From: p.From, To: p.To}
	var counters []CPUCounter
	for _, c := range []CPUCounter{p.ClientCPU, p.ServerCPU} {
		if c != nil {
			counters = append(counters, c)
		}
	}
	cpu, err := CPUPercent(ctx, func() error {
		var err error
		r.TunnelMbps, err = TCPThroughput(ctx, p.Server, p.Client, p.TunnelAddr, port, d)
		return err
	}, counters...)
	if err != nil {
		return r, err
	}
	for _, c := range cpu {
		r.RouterCPUPct = max(r.RouterCPUPct, c)
	}
	// The next port: the tunnel run's server may still hold its own for a
	// moment after being stopped.
	if r.DirectMbps, err = TCPThroughput(ctx, p.Server, p.Client, p.DirectAddr, port+1, d); err != nil {
		return r, fmt.Errorf("direct: %w", err)
	}
	return r, nil
}

// Table renders the report as two Markdown tables, for people and notes.
func (r Report) Table() string {
	var b strings.Builder
	paths := slices.ContainsFunc(r.Sites, func(s SiteResult) bool { return len(s.Path) > 0 })
	if paths {
		b.WriteString("| from | to | through | target ms | measured ms | error % |\n|---|---|---|---:|---:|---:|\n")
	} else {
		b.WriteString("| from | to | target ms | measured ms | error % |\n|---|---|---:|---:|---:|\n")
	}
	for _, s := range r.Sites {
		if paths {
			through := "-"
			if len(s.Path) > 2 {
				through = strings.Join(s.Path[1:len(s.Path)-1], ", ")
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %.2f | %.2f | %+.2f |\n", s.From, s.To, through, s.TargetMs, s.MeasuredMs, s.ErrorPct)
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %.2f | %.2f | %+.2f |\n", s.From, s.To, s.TargetMs, s.MeasuredMs, s.ErrorPct)
	}
	if r.Sample != "" {
		fmt.Fprintf(&b, "\nsampled: %s\n", r.Sample)
	}
	if r.TunnelsSkipped != "" {
		fmt.Fprintf(&b, "\ntunnel throughput not measured: %s\n", r.TunnelsSkipped)
	}
	if len(r.Tunnels) == 0 {
		return b.String()
	}
	b.WriteString("\n| from | to | tunnel Mbit/s | direct Mbit/s | router CPU % |\n|---|---|---:|---:|---:|\n")
	for _, t := range r.Tunnels {
		fmt.Fprintf(&b, "| %s | %s | %.1f | %.1f | %.0f |\n", t.From, t.To, t.TunnelMbps, t.DirectMbps, t.RouterCPUPct)
	}
	return b.String()
}

package layer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/wan"
)

// MeasureOptions tune MeasureWAN.
type MeasureOptions struct {
	// Pings per tunnel, Interval apart; 20 and 200ms when zero.
	Pings    int
	Interval time.Duration
	// Paths measures site pairs end to end, through the hubs their
	// traffic crosses, against the sum of those tunnels' targets: 0
	// measures each tunnel once (its two sites), AllPaths every pair of
	// sites, n > 0 a sample of n pairs spread evenly over all of them (the
	// same n, the same pairs; Report.Sample names it).
	Paths int
	// Throughput is how long each tunnel's TCP runs last; zero skips them
	// (and the CPU figures).
	Throughput time.Duration
	// CPU counts a router's CPU time; nil counts the whole machine
	// (/proc/stat through its runner), which is wrong for a container: the
	// lab passes its containers' cgroups (wan.PIDCgroupCPU).
	CPU func(ctx context.Context, router string, r remote.Runner) (wan.CPUCounter, error)
}

// MeasureWAN measures what `stage verify --measure` reports: for every
// tunnel, the median RTT between its routers through it against the
// latency model's target (Env.Latency, else the topology's own; 0
// without a model), and, with
// o.Throughput, TCP throughput through the tunnel and between the same
// routers' WAN addresses, with the busier router's CPU during the tunnel
// run. Site pairs without a tunnel of their own (spokes, in hub-spoke
// and regional mode) are measured only with o.Paths. A tunnel whose
// routers lack iperf3 gets no throughput, and Report.TunnelsSkipped says
// so. Problems are joined; what could be measured is returned with them.
func MeasureWAN(ctx context.Context, t *topology.Topology, env *Env, o MeasureOptions) (wan.Report, error) {
	if t.VPN == nil {
		return wan.Report{}, errors.New("measure: the topology has no vpn")
	}
	if o.Pings == 0 {
		o.Pings = 20
	}
	if o.Interval == 0 {
		o.Interval = 200 * time.Millisecond
	}
	matrix, _, err := LatencyMatrix(t, withLatency(t, env))
	if err != nil {
		return wan.Report{}, err
	}
	targets := map[wan.Pair]time.Duration{}
	for _, e := range matrix {
		targets[e.Pair] = e.RTT
	}
	spec, err := TunnelSpec(t)
	if err != nil {
		return wan.Report{}, err
	}
	m, err := tunnel.New(spec)
	if err != nil {
		return wan.Report{}, err
	}
	dial := func(router string) (remote.Runner, error) {
		r, err := env.Dial(ctx, router)
		if err != nil {
			return nil, fmt.Errorf("router %q: %w", router, err)
		}
		return r, nil
	}
	var (
		probes  []wan.SiteProbe
		tunnels []wan.TunnelProbe
		errs    []error
		lacking []string // routers without iperf3
	)
	checked := map[string]bool{}
	hasIperf := func(router string, r remote.Runner) bool {
		if ok, seen := checked[router]; seen {
			return ok
		}
		ok, err := wan.HasCommand(ctx, r, "iperf3")
		if err != nil {
			errs = append(errs, err)
		} else if !ok {
			lacking = append(lacking, router)
		}
		checked[router] = ok
		return ok
	}
	var sample string
	if o.Paths != 0 {
		var pairs [][2]string
		pairs, sample = samplePairs(m, o.Paths)
		for _, p := range pairs {
			client, err := dial(mustSite(m, p[0]).Router)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			probes = append(probes, pathProbe(m, targets, p[0], p[1], client))
		}
	}
	for _, tn := range m.Tunnels {
		from, to := tn.Ends[0], tn.Ends[1]
		client, err := dial(from.Router)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		server, err := dial(to.Router)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if o.Paths == 0 {
			probes = append(probes, wan.SiteProbe{From: from.Site, To: to.Site, Target: targets[wan.NewPair(from.Site, to.Site)],
				Runner: client, Addr: to.Address})
		}
		if o.Throughput <= 0 {
			continue
		}
		if a, b := hasIperf(from.Router, client), hasIperf(to.Router, server); !a || !b {
			continue
		}
		p := wan.TunnelProbe{From: from.Site, To: to.Site, Client: client, Server: server,
			TunnelAddr: to.Address, DirectAddr: to.WAN}
		if p.ClientCPU, err = cpuCounter(ctx, o, from.Router, client); err != nil {
			errs = append(errs, err)
			continue
		}
		if p.ServerCPU, err = cpuCounter(ctx, o, to.Router, server); err != nil {
			errs = append(errs, err)
			continue
		}
		tunnels = append(tunnels, p)
	}
	rep := wan.Report{Sample: sample}
	switch {
	case o.Throughput <= 0:
		rep.TunnelsSkipped = "not asked for"
	case len(lacking) > 0:
		rep.TunnelsSkipped = fmt.Sprintf("iperf3 is not installed on router %s", strings.Join(lacking, ", "))
		if len(tunnels) > 0 {
			rep.TunnelsSkipped = "for some tunnels: " + rep.TunnelsSkipped
		}
	}
	rep.Sites, err = wan.MeasureSites(ctx, probes, o.Pings, o.Interval)
	errs = append(errs, err)
	if len(tunnels) > 0 {
		rep.Tunnels, err = wan.MeasureTunnels(ctx, tunnels, o.Throughput)
		errs = append(errs, err)
	}
	return rep, errors.Join(errs...)
}

func cpuCounter(ctx context.Context, o MeasureOptions, router string, r remote.Runner) (wan.CPUCounter, error) {
	if o.CPU == nil {
		return wan.ProcStatCPU(r), nil
	}
	c, err := o.CPU(ctx, router, r)
	if err != nil {
		return nil, fmt.Errorf("router %q: cpu: %w", router, err)
	}
	return c, nil
}

// AllPaths is MeasureOptions.Paths for every pair of sites.
const AllPaths = -1

// samplePairs returns the site pairs MeasureOptions.Paths asks for, each
// once (the earlier site in the topology first), and what the sample is
// when it is not all of them.
func samplePairs(m *tunnel.Model, n int) ([][2]string, string) {
	var all [][2]string
	for i, a := range m.Spec.Sites {
		for _, b := range m.Spec.Sites[i+1:] {
			all = append(all, [2]string{a.Name, b.Name})
		}
	}
	if n < 0 || n >= len(all) {
		return all, ""
	}
	// Evenly spread: the pair at i*len/n for i < n, so every region of
	// the list (every site as the first of a pair) is drawn from.
	out := make([][2]string, 0, n)
	for i := range n {
		out = append(out, all[i*len(all)/n])
	}
	return out, fmt.Sprintf("%d of %d site pairs, spread evenly over them in site order", n, len(all))
}

// pathProbe measures from's router to to's along the path between them:
// to the far end's tunnel address where one tunnel joins them (as the
// per-tunnel measurement does), else its LAN address; the target is the
// sum of the path's tunnels'.
func pathProbe(m *tunnel.Model, targets map[wan.Pair]time.Duration, from, to string, client remote.Runner) wan.SiteProbe {
	path := m.Path(from, to)
	var target time.Duration
	for i := 1; i < len(path); i++ {
		target += targets[wan.NewPair(path[i-1], path[i])]
	}
	p := wan.SiteProbe{From: from, To: to, Target: target, Runner: client, Addr: mustSite(m, to).LAN}
	if len(path) == 2 {
		for _, tn := range m.TunnelsOf(from) {
			if _, peer, _ := tn.Local(from); peer.Site == to {
				p.Addr = peer.Address
			}
		}
		return p
	}
	p.Path = path
	return p
}

// mustSite is the model's site called name, which samplePairs took from
// the model.
func mustSite(m *tunnel.Model, name string) tunnel.Site {
	s, _ := m.Site(name)
	return s
}

package gossip

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/planetstage/planetstage/experiment"
	"github.com/planetstage/planetstage/kubeadm"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// Options shape a gossip run.
type Options struct {
	// Dir is the results folder (package experiment's, plus ResultsFile
	// and PeersFile).
	Dir string
	// PeerSource is the directory of a peer's Go module of the harness's
	// own; empty means the built-in peer, which ships with planetstage
	// (WritePeerSource). Binary, when set, is a peer already built
	// (BuildPeer) and PeerSource is not read.
	PeerSource string
	Binary     []byte
	// Partition is the site cut off mid-run; the last site with workers
	// and no control plane when empty, so that the API stays reachable.
	Partition string
	// Before, During and After are how long the phases last: 20 s, 20 s
	// and 30 s when zero; each must be longer than Deadline.
	Before, During, After time.Duration
	// Deadline is how long a message may take and count as delivered;
	// 5 s when zero.
	Deadline time.Duration
	// Every is each peer's publishing interval; 200 ms when zero.
	Every time.Duration
	// Warmup bounds the wait, once the peers run, until every peer has
	// heard from every other; 2 minutes when zero.
	Warmup time.Duration
	// ProbeInterval is the experiment's (RTT probes, and the peers'
	// counters collected into the timeline); 2 s when zero.
	ProbeInterval time.Duration
	// Timing is the plan's timing, for the report's Gantt chart.
	Timing *plan.TimingReport
	// Keep leaves the peers running after the run; by default their
	// DaemonSet is deleted.
	Keep bool
	// Progress receives a short line per phase; nil discards.
	Progress func(line string)
	// Log receives the details; nil discards.
	Log *slog.Logger
}

// Workload is the name of the peers' DaemonSet.
const Workload = "gossip"

// The peers' ports on their node's address (they run in its network).
const (
	P2PPort  = 4001
	HTTPPort = 9090
)

// The files a gossip run adds to the results folder.
const (
	ResultsFile = "results.json" // Results
	PeersFile   = "peers.json"   // every peer's state as last collected
)

func (o *Options) defaults() {
	o.Before = cmp.Or(o.Before, 20*time.Second)
	o.During = cmp.Or(o.During, 20*time.Second)
	o.After = cmp.Or(o.After, 30*time.Second)
	o.Deadline = cmp.Or(o.Deadline, 5*time.Second)
	o.Every = cmp.Or(o.Every, 200*time.Millisecond)
	o.Warmup = cmp.Or(o.Warmup, 2*time.Minute)
	o.ProbeInterval = cmp.Or(o.ProbeInterval, 2*time.Second)
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// peer is one peer of the run: a worker, its site and address.
type peer struct {
	node, site, addr string
}

// plan checks o against the topology and returns the peers and the site
// to cut. Every fault is named; nothing has been done yet.
func (o *Options) plan(t *topology.Topology) ([]peer, error) {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("gossip: Dir: the results folder is missing"))
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"Before", o.Before}, {"During", o.During}, {"After", o.After}} {
		if f.d <= o.Deadline {
			errs = append(errs, fmt.Errorf("gossip: %s %v: must be longer than the deadline %v", f.name, f.d, o.Deadline))
		}
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"Deadline", o.Deadline}, {"Every", o.Every}, {"Warmup", o.Warmup}, {"ProbeInterval", o.ProbeInterval}} {
		if f.d < 0 {
			errs = append(errs, fmt.Errorf("gossip: %s %v: must not be negative", f.name, f.d))
		}
	}
	var peers []peer
	withWorkers, withControl := map[string]bool{}, map[string]bool{}
	var sites []string
	for _, s := range t.Sites {
		for _, h := range s.Hosts {
			switch h.Role {
			case topology.RoleWorker:
				peers = append(peers, peer{node: h.Name, site: s.Name, addr: h.Address.String()})
				if !withWorkers[s.Name] {
					sites = append(sites, s.Name)
				}
				withWorkers[s.Name] = true
			case topology.RoleControlPlane, topology.RoleLoadBalancer:
				withControl[s.Name] = true
			}
		}
	}
	if len(sites) < 2 {
		errs = append(errs, fmt.Errorf("gossip: topology %q: workers in %d site(s): a partition needs at least two", t.Name, len(sites)))
	}
	if o.Partition == "" {
		for _, s := range slices.Backward(sites) {
			if !withControl[s] {
				o.Partition = s
				break
			}
		}
	}
	switch {
	case o.Partition == "" && len(sites) >= 2:
		errs = append(errs, fmt.Errorf("gossip: topology %q: every site with workers holds a control plane or the load balancer; name Partition", t.Name))
	case o.Partition != "" && !withWorkers[o.Partition]:
		errs = append(errs, fmt.Errorf("gossip: Partition %q: no worker runs in that site (sites with workers: %s)", o.Partition, strings.Join(sites, ", ")))
	}
	return peers, errors.Join(errs...)
}

// Run runs the gossip experiment on a testbed whose cluster b is up: it
// builds the peer image and imports it on every worker, runs a peer on
// each (a DaemonSet in the nodes' network), waits until every peer hears
// every other, then starts an experiment (package experiment) that lets
// the peers gossip for Before, partitions the site Partition for During,
// heals it and goes on for After. The peers' states are collected every
// ProbeInterval into the run's timeline and, with the results so far, into
// the folder, so that a run cut short (ctx cancelled) keeps them; a cut
// still in force then is healed. It returns the results, whose Problems
// list the must-holds that failed.
func Run(ctx context.Context, tb experiment.Testbed, b *kubeadm.Bootstrapper, o Options) (*Results, error) {
	o.defaults()
	t := tb.Topology()
	if t == nil {
		return nil, errors.New("gossip: the testbed has no topology")
	}
	peers, err := o.plan(t)
	if err != nil {
		return nil, err
	}
	oneWay, floor, err := delays(tb, t, peers)
	if err != nil {
		return nil, err
	}
	binary := o.Binary
	if len(binary) == 0 {
		start := time.Now()
		if binary, err = BuildPeer(ctx, o.PeerSource); err != nil {
			return nil, err
		}
		from := cmp.Or(o.PeerSource, "the built-in source")
		o.Progress(fmt.Sprintf("✓ Peer built from %s (%.1f MB) in %.1f s", from, float64(len(binary))/1e6, time.Since(start).Seconds()))
	}
	ref, archive, err := Image(binary)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := loadEverywhere(ctx, tb, peers, archive); err != nil {
		return nil, err
	}
	o.Progress(fmt.Sprintf("✓ Image %s imported on %d workers in %.1f s", ref, len(peers), time.Since(start).Seconds()))

	start = time.Now()
	seed := make([]byte, 8)
	_, _ = rand.Read(seed)
	if err := deploy(ctx, b, peers, ref, hex.EncodeToString(seed), o.Every); err != nil {
		return nil, err
	}
	if !o.Keep {
		defer func() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if _, _, err := b.Kubectl(dctx, "delete", "daemonset", Workload, "--ignore-not-found", "--wait=false"); err != nil {
				o.Log.Warn("gossip: delete the peers", "err", err)
			}
		}()
	}
	o.Progress(fmt.Sprintf("✓ %d peers running (DaemonSet %s, one per worker) in %.1f s", len(peers), Workload, time.Since(start).Seconds()))

	c := &collector{tb: tb, peers: peers}
	start = time.Now()
	if err := c.waitMesh(ctx, o.Warmup); err != nil {
		return nil, err
	}
	o.Progress(fmt.Sprintf("✓ Every peer hears every other (%.1f s)", time.Since(start).Seconds()))
	return runPhases(ctx, tb, c, o, oneWay, floor)
}

// runPhases is the experiment proper: before, the cut, during, the heal,
// after; the folder is rewritten as the peers' states come in.
func runPhases(ctx context.Context, tb experiment.Testbed, c *collector, o Options, oneWay, floor map[[2]string]time.Duration) (*Results, error) {
	var mu sync.Mutex
	var tl Timeline
	siteOf := map[string]string{}
	for _, p := range c.peers {
		siteOf[p.node] = p.site
	}
	// run is set once Start returns; its probes may call metrics before.
	var run *experiment.Run
	// publish computes the results from the states collected last and
	// writes them into the folder.
	publish := func(states []PeerState, end time.Time) (Results, error) {
		mu.Lock()
		cur, r := tl, run
		mu.Unlock()
		cur.End = end
		res, err := Compute(Input{States: states, SiteOf: siteOf, OneWay: oneWay, Floor: floor, Partitioned: o.Partition,
			Timeline: cur, Deadline: o.Deadline})
		if err != nil {
			return res, errors.Join(err, writeFile(o.Dir, PeersFile, states))
		}
		return res, writeResults(o.Dir, r, res, states)
	}
	metrics := func(ctx context.Context) (map[string]float64, error) {
		states, err := c.collect(ctx)
		now := time.Now()
		out := receivedPerSecond(states, siteOf, now.Add(-o.ProbeInterval), now)
		if _, perr := publish(states, now); perr != nil {
			o.Log.Warn("gossip: results so far", "err", perr)
		}
		if ctx.Err() != nil {
			return out, nil // the run is stopping; the last collection follows
		}
		return out, err
	}
	tl.Start = time.Now()
	r, err := experiment.Start(ctx, tb, experiment.Options{Dir: o.Dir, ProbeInterval: o.ProbeInterval, Metrics: metrics,
		Timing: o.Timing, Log: o.Log})
	if err != nil {
		return nil, err
	}
	mu.Lock()
	run = r
	mu.Unlock()
	cut := false
	wait := func(d time.Duration) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
			return nil
		}
	}
	stage := func(kind experiment.Kind, at *time.Time, done *time.Time) error {
		rec, err := run.Do(ctx, experiment.Event{Kind: kind, Site: o.Partition})
		mu.Lock()
		*at, *done = rec.Time, rec.Time.Add(time.Duration(rec.TookMs*float64(time.Millisecond)))
		mu.Unlock()
		return err
	}
	o.Progress(fmt.Sprintf("… gossiping, every peer publishing every %v: %v before the partition", o.Every, o.Before))
	err = wait(o.Before)
	if err == nil {
		cut = true
		err = stage(experiment.Partition, &tl.Cut, &tl.CutDone)
		o.Progress(fmt.Sprintf("✂ Site %s partitioned (its tunnels cut on the WAN relay) for %v", o.Partition, o.During))
	}
	if err == nil {
		err = wait(o.During)
	}
	if err == nil {
		err = stage(experiment.Heal, &tl.Heal, &tl.HealDone)
		cut = err != nil
		o.Progress(fmt.Sprintf("✓ Site %s healed; %v after", o.Partition, o.After))
	}
	if err == nil {
		err = wait(o.After)
	}
	end := time.Now()
	if cut {
		// Heal before the last collection, so that the cut site answers
		// through its tunnels too (the collection itself does not need
		// them) and the testbed is whole whatever happens next.
		hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		_, herr := run.Do(hctx, experiment.Event{Kind: experiment.Heal, Site: o.Partition})
		hcancel()
		cut = herr != nil
	}
	// The probes stop first, so that no round of theirs writes the folder
	// after the last collection does.
	serr := run.Stop()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	states, cerr := c.collect(cctx)
	res, perr := publish(states, end)
	return &res, errors.Join(err, cerr, perr, serr)
}

// delays are the emulated one-way delay, and its floor (less the jitter),
// between every two sites with peers, along the route their traffic takes
// (topology.SitePath), from the testbed's shapes now.
func delays(tb experiment.Testbed, t *topology.Topology, peers []peer) (oneWay, floor map[[2]string]time.Duration, err error) {
	oneWay, floor = map[[2]string]time.Duration{}, map[[2]string]time.Duration{}
	var sites []string
	for _, p := range peers {
		if !slices.Contains(sites, p.site) {
			sites = append(sites, p.site)
		}
	}
	for _, a := range sites {
		for _, b := range sites {
			if a == b {
				continue
			}
			path := t.SitePath(a, b)
			if len(path) < 2 {
				return nil, nil, fmt.Errorf("gossip: sites %s and %s: no route between them (no VPN)", a, b)
			}
			var d, f time.Duration
			for i := range len(path) - 1 {
				s, _, err := tb.Shape(path[i], path[i+1])
				if err != nil {
					return nil, nil, fmt.Errorf("gossip: sites %s and %s: the emulated delay: %w", path[i], path[i+1], err)
				}
				d, f = d+s.Delay, f+s.Delay-s.Jitter
			}
			oneWay[[2]string{a, b}], floor[[2]string{a, b}] = d, f
		}
	}
	return oneWay, floor, nil
}

// loadEverywhere imports the image on every worker at once.
func loadEverywhere(ctx context.Context, tb experiment.Testbed, peers []peer, archive []byte) error {
	errs := make([]error, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		wg.Go(func() {
			r, err := tb.Dial(ctx, p.node)
			if err == nil {
				err = loadImage(ctx, r, archive)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// deploy runs a peer on every worker: the DaemonSet of a former run is
// removed first (its pods hold the ports on the nodes' addresses), then
// the new one applied, and Deploy waits until a peer runs on every worker.
func deploy(ctx context.Context, b *kubeadm.Bootstrapper, peers []peer, ref, seed string, every time.Duration) error {
	if _, _, err := b.Kubectl(ctx, "delete", "daemonset", Workload, "--ignore-not-found", "--cascade=foreground", "--wait=true", "--timeout=2m"); err != nil {
		return fmt.Errorf("gossip: remove the peers of a former run: %w", err)
	}
	list := make([]string, len(peers))
	for i, p := range peers {
		list[i] = p.node + "=" + p.addr
	}
	w := kubeadm.Workload{Name: Workload, Image: ref, HostNetwork: true, PullPolicy: kubeadm.PullNever, Timeout: 3 * time.Minute,
		Args: []string{"--peers", strings.Join(list, ","), "--seed", seed, "--port", fmt.Sprint(P2PPort),
			"--http", fmt.Sprint(HTTPPort), "--every", every.String()}}
	if _, err := b.Deploy(ctx, w); err != nil {
		return fmt.Errorf("gossip: run the peers: %w", err)
	}
	return nil
}

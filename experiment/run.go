package experiment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// Options tune a run.
type Options struct {
	// Dir is the results folder; it is created, and files already in it
	// are replaced.
	Dir string
	// Schedule are events due at offsets from the run's start.
	Schedule []Scheduled
	// ProbeInterval is how often every site pair's RTT is probed; 2s when
	// zero. Pings per probe, PingInterval apart: 3 and 200ms when zero.
	ProbeInterval time.Duration
	Pings         int
	PingInterval  time.Duration
	// Metrics, when set, returns the system under test's own numbers by
	// name; it is called every ProbeInterval.
	Metrics func(ctx context.Context) (map[string]float64, error)
	// Timing is the plan's timing to draw in the report (plan.Timing of
	// the apply that built the testbed); nil leaves the chart out.
	Timing *plan.TimingReport
	// Log receives a record per event and per failed write; nil discards.
	Log *slog.Logger
}

// Run is an experiment in progress: its scheduled events fire, probes run
// every interval, and the results folder is rewritten as they come.
type Run struct {
	tb    Testbed
	topo  *topology.Topology
	opts  Options
	start time.Time
	log   *slog.Logger

	ctx    context.Context // the run's, done at Stop
	cancel context.CancelFunc
	wg     sync.WaitGroup

	doMu sync.Mutex // one event at a time

	mu       sync.Mutex
	records  []Record
	rtts     []RTTSample
	metrics  []MetricSample
	cut      map[string]bool // sites partitioned now
	facts    map[string]string
	sections []Section // the system's own tables (SetSections)
	errs     []error   // write errors
}

// Start validates opts against the testbed (every scheduled event, before
// anything is done), creates the results folder with the topology and the
// testbed's facts, and starts the schedule and the probes. They run until
// ctx is done or Stop; what was measured is in the folder either way.
func Start(ctx context.Context, tb Testbed, opts Options) (*Run, error) {
	t := tb.Topology()
	if t == nil {
		return nil, errors.New("experiment: the testbed has no topology")
	}
	var errs []error
	if opts.Dir == "" {
		errs = append(errs, errors.New("experiment: Dir: the results folder is missing"))
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"ProbeInterval", opts.ProbeInterval}, {"PingInterval", opts.PingInterval}} {
		if f.d < 0 {
			errs = append(errs, fmt.Errorf("experiment: %s %v: must not be negative", f.name, f.d))
		}
	}
	if opts.Pings < 0 {
		errs = append(errs, fmt.Errorf("experiment: Pings %d: must not be negative", opts.Pings))
	}
	if err := validateSchedule(t, opts.Schedule); err != nil {
		errs = append(errs, fmt.Errorf("experiment: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if opts.ProbeInterval == 0 {
		opts.ProbeInterval = 2 * time.Second
	}
	if opts.Pings == 0 {
		opts.Pings = 3
	}
	if opts.PingInterval == 0 {
		opts.PingInterval = 200 * time.Millisecond
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("experiment: results folder: %w", err)
	}
	r := &Run{tb: tb, topo: t, opts: opts, log: log, cut: map[string]bool{}}
	r.facts = tb.Facts(ctx)
	if err := r.writeStatic(); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	r.ctx, r.cancel = runCtx, cancel
	r.start = time.Now()
	schedule := slices.Clone(opts.Schedule)
	slices.SortStableFunc(schedule, func(a, b Scheduled) int { return int(a.After - b.After) })
	r.wg.Go(func() { r.runSchedule(runCtx, schedule) })
	r.wg.Go(func() { r.probeLoop(runCtx) })
	return r, nil
}

// Elapsed is the time since the run started.
func (r *Run) Elapsed() time.Duration { return time.Since(r.start) }

// Stop ends the run: the probes stop, events not yet due are dropped, and
// the folder is written a last time, report included. It returns the
// write errors met along the way.
func (r *Run) Stop() error {
	r.cancel()
	r.wg.Wait()
	r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.Join(r.errs...)
}

func (r *Run) runSchedule(ctx context.Context, s []Scheduled) {
	for _, se := range s {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(r.start.Add(se.After))):
		}
		_, _ = r.Do(ctx, se.Event)
	}
}

// Schedule adds ev, due after the given offset from the run's start. An
// offset already past is an error naming it, as is an event the topology
// refuses; nothing is scheduled then.
func (r *Run) Schedule(after time.Duration, ev Event) error {
	if r.ctx.Err() != nil {
		return fmt.Errorf("experiment: %s: the run has stopped", ev)
	}
	if el := r.Elapsed(); after < el {
		return fmt.Errorf("experiment: %s after %v: an event in the past (the run is at %v)", ev, after, el.Round(time.Millisecond))
	}
	if err := ev.validate(r.topo); err != nil {
		return fmt.Errorf("experiment: %w", err)
	}
	r.wg.Go(func() { r.runSchedule(r.ctx, []Scheduled{{After: after, Event: ev}}) })
	return nil
}

// Do does ev now, records it (also when it fails) and returns the record.
// An event the topology refuses (unknown site, bad shape) is an error and
// changes nothing; it is not recorded.
func (r *Run) Do(ctx context.Context, ev Event) (Record, error) {
	if err := ev.validate(r.topo); err != nil {
		return Record{}, fmt.Errorf("experiment: %w", err)
	}
	r.doMu.Lock()
	defer r.doMu.Unlock()
	now := time.Now()
	rec := Record{Time: now, OffsetMs: ms(now.Sub(r.start)), Event: ev}
	did, err := r.apply(ctx, ev)
	rec.Did, rec.TookMs = did, ms(time.Since(now))
	if err != nil {
		rec.Error = err.Error()
	}
	r.log.Info("experiment event", "event", ev.String(), "did", did, "err", err)
	r.mu.Lock()
	r.records = append(r.records, rec)
	r.mu.Unlock()
	r.flush()
	if err != nil {
		return rec, fmt.Errorf("experiment: %s: %w", ev, err)
	}
	return rec, nil
}

func (r *Run) apply(ctx context.Context, ev Event) (string, error) {
	switch ev.Kind {
	case Partition, Heal:
		cut := ev.Kind == Partition
		peers := tunnelsOf(r.topo, ev.Site)
		var done []string
		for _, p := range peers {
			if err := r.tb.SetCut(ctx, ev.Site, p, cut); err != nil {
				return describeCut(cut, ev.Site, done), err
			}
			done = append(done, p)
		}
		r.mu.Lock()
		r.cut[ev.Site] = cut
		r.mu.Unlock()
		return describeCut(cut, ev.Site, done), nil
	case SetLink:
		ab, _, err := r.tb.Shape(ev.From, ev.To)
		if err != nil {
			return "", err
		}
		if err := r.tb.SetShape(ctx, ev.From, ev.To, *ev.Shape); err != nil {
			return "", err
		}
		return fmt.Sprintf("tunnel %s<->%s: one-way delay %v -> %v, jitter %v -> %v, loss %v%% -> %v%%",
			ev.From, ev.To, ab.Delay, ev.Shape.Delay, ab.Jitter, ev.Shape.Jitter, ab.LossPct, ev.Shape.LossPct), nil
	case StopMachine:
		return "stopped " + ev.Machine, r.tb.StopMachine(ctx, ev.Machine)
	case StartMachine:
		return "started " + ev.Machine, r.tb.StartMachine(ctx, ev.Machine)
	}
	return "", fmt.Errorf("event kind %q unknown", ev.Kind) // validate refused it already
}

func describeCut(cut bool, site string, peers []string) string {
	verb := "restored"
	if cut {
		verb = "cut"
	}
	if len(peers) == 0 {
		return fmt.Sprintf("%s no tunnel of site %s", verb, site)
	}
	return fmt.Sprintf("%s %d tunnel(s) of site %s: to %s", verb, len(peers), site, strings.Join(peers, ", "))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

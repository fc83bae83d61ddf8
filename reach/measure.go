package reach

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/planetstage/planetstage/remote"
)

// Target is a machine of the matrix: its name and the address the others
// ping.
type Target struct {
	Name    string
	Address netip.Addr
}

// Options tune Measure.
type Options struct {
	// Run returns the runner of the machine called name, on which its
	// pings run.
	Run func(ctx context.Context, name string) (remote.Runner, error)
	// Down, when not nil, is asked about a machine whose pings could not
	// run (its runner failed, or the shell did): a machine that is down
	// reaches nothing, which the matrix shows; one that is up but failed
	// is an error. Without Down every such failure is an error.
	Down func(ctx context.Context, name string) (bool, error)
	// Wait is how long ping waits for a reply, rounded up to whole
	// seconds; 0 means one second. Give far pairs (a slow WAN) more.
	Wait time.Duration
	// Sources bounds the machines that ping at once, each pinging all its
	// targets in parallel; 0 means DefaultSources. More would measure the
	// CPU queue of a small machine rather than the network.
	Sources int
}

// DefaultSources is Options.Sources' default.
const DefaultSources = 4

// Measure pings, from inside every machine, every other machine's address
// (3 echoes 0.2 s apart) and returns each ordered pair, in targets' order,
// with its average RTT. A pair none of whose echoes was answered is pinged
// once more before it counts as unreachable: on a loaded machine a far
// pair's replies can miss the wait (a planet-wide lab, right after its
// tunnels came up, lost 3 of 9 900 pairs that way and none on a second
// look).
func Measure(ctx context.Context, targets []Target, o Options) (Matrix, error) {
	mx := Matrix{}
	for _, t := range targets {
		mx.Machines = append(mx.Machines, t.Name)
	}
	results := make([][]Pair, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	sem := make(chan struct{}, cmp.Or(max(o.Sources, 0), DefaultSources))
	for i, from := range targets {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i], errs[i] = pingAll(ctx, from, targets, o)
			if errs[i] == nil {
				errs[i] = pingAgain(ctx, from, targets, results[i], o)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Matrix{}, err
	}
	for _, r := range results {
		mx.Pairs = append(mx.Pairs, r...)
	}
	return mx, nil
}

// pingAgain pings once more, from from, the targets of pairs that did not
// answer, and marks those that answer now reachable.
func pingAgain(ctx context.Context, from Target, targets []Target, pairs []Pair, o Options) error {
	again := []Target{from}
	for _, p := range pairs {
		if !p.Reachable {
			i := slices.IndexFunc(targets, func(t Target) bool { return t.Name == p.To })
			again = append(again, targets[i])
		}
	}
	if len(again) == 1 {
		return nil
	}
	second, err := pingAll(ctx, from, again, o)
	if err != nil {
		return err
	}
	for _, q := range second {
		if !q.Reachable {
			continue
		}
		for i := range pairs {
			if pairs[i].To == q.To {
				pairs[i] = q
			}
		}
	}
	return nil
}

// pingAll runs one shell on from that pings every target in parallel and
// prints "<address> <exit status> <avg rtt ms>" per target.
func pingAll(ctx context.Context, from Target, all []Target, o Options) ([]Pair, error) {
	wait := max(1, int((o.Wait+time.Second-1)/time.Second))
	var script strings.Builder
	for _, to := range all {
		if to.Name == from.Name {
			continue
		}
		a := to.Address.String()
		fmt.Fprintf(&script, "(out=$(ping -n -q -c 3 -i 0.2 -W %d %s 2>&1); rc=$?; echo \"%s $rc $(echo \"$out\" | sed -n 's|.*= [0-9.]*/\\([0-9.]*\\)/.*|\\1|p')\") & ", wait, a, a)
	}
	script.WriteString("wait")
	out, err := run(ctx, from.Name, script.String(), o)
	down := false
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if o.Down == nil {
			return nil, fmt.Errorf("ping from %s: %w", from.Name, err)
		}
		isDown, derr := o.Down(ctx, from.Name)
		if derr != nil || !isDown {
			return nil, fmt.Errorf("ping from %s: %w", from.Name, errors.Join(err, derr))
		}
		down = true
	}
	got := map[string]Pair{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		p := Pair{Reachable: f[1] == "0"}
		if p.Reachable && len(f) >= 3 {
			if ms, err := strconv.ParseFloat(f[2], 64); err == nil {
				p.RTT = time.Duration(ms * float64(time.Millisecond))
			}
		}
		got[f[0]] = p
	}
	var pairs []Pair
	for _, to := range all {
		if to.Name == from.Name {
			continue
		}
		p, ok := got[to.Address.String()]
		if !ok && !down {
			return nil, fmt.Errorf("ping from %s: no result for %s", from.Name, to.Name)
		}
		p.From, p.To = from.Name, to.Name
		pairs = append(pairs, p)
	}
	return pairs, nil
}

func run(ctx context.Context, name, script string, o Options) (string, error) {
	r, err := o.Run(ctx, name)
	if err != nil {
		return "", err
	}
	return remote.Output(ctx, r, script)
}

package lab

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/planetstage/planetstage/remote"
)

// Pair is one ordered pair of the reachability matrix: From pinged To's
// address (a router's LAN address) from inside its container.
type Pair struct {
	From      string
	To        string
	Reachable bool
	// RTT is the average round trip time when Reachable.
	RTT time.Duration
}

type pairJSON struct {
	From      string  `json:"from"`
	To        string  `json:"to"`
	Reachable bool    `json:"reachable"`
	RTTms     float64 `json:"rtt_ms"`
}

// MarshalJSON writes {"from","to","reachable","rtt_ms"}.
func (p Pair) MarshalJSON() ([]byte, error) {
	ms := math.Round(float64(p.RTT)/float64(time.Millisecond)*1000) / 1000
	return json.Marshal(pairJSON{From: p.From, To: p.To, Reachable: p.Reachable, RTTms: ms})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Pair) UnmarshalJSON(data []byte) error {
	var j pairJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*p = Pair{From: j.From, To: j.To, Reachable: j.Reachable, RTT: time.Duration(j.RTTms * float64(time.Millisecond))}
	return nil
}

// Matrix is the reachability of every ordered pair of machines.
type Matrix struct {
	// Machines are in spec order: site by site, router first.
	Machines []string `json:"machines"`
	Pairs    []Pair   `json:"hosts"`
}

// Pair returns the entry for from -> to.
func (m Matrix) Pair(from, to string) (Pair, bool) {
	for _, p := range m.Pairs {
		if p.From == from && p.To == to {
			return p, true
		}
	}
	return Pair{}, false
}

// Unreachable lists the pairs that did not answer.
func (m Matrix) Unreachable() []Pair {
	var out []Pair
	for _, p := range m.Pairs {
		if !p.Reachable {
			out = append(out, p)
		}
	}
	return out
}

// Table renders the matrix like the thesis's tables 4.6 and 4.7: a row per
// source, a column per destination, "o" reachable, "x" not, "-" itself.
func (m Matrix) Table() string {
	width := 4
	for _, n := range m.Machines {
		width = max(width, len(n))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s", width+2, "from\\to")
	for _, n := range m.Machines {
		fmt.Fprintf(&b, " %-*s", width, n)
	}
	b.WriteString("\n")
	for _, from := range m.Machines {
		fmt.Fprintf(&b, "%-*s", width+2, from)
		for _, to := range m.Machines {
			mark := "-"
			if from != to {
				mark = "x"
				if p, ok := m.Pair(from, to); ok && p.Reachable {
					mark = "o"
				}
			}
			fmt.Fprintf(&b, " %-*s", width, mark)
		}
		b.WriteString("\n")
	}
	lines := strings.Split(b.String(), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return strings.Join(lines, "\n")
}

// matrixSources bounds how many machines ping at once.
const matrixSources = 4

// Matrix pings, from inside every machine, every other machine's address
// (3 echoes, 1 s timeout each; a few sources at a time, each pinging all its
// targets in parallel), and reports each ordered pair with its average RTT.
func (l *Lab) Matrix(ctx context.Context) (Matrix, error) {
	machines := l.Machines()
	mx := Matrix{}
	for _, m := range machines {
		mx.Machines = append(mx.Machines, m.Name)
	}
	results := make([][]Pair, len(machines))
	errs := make([]error, len(machines))
	var wg sync.WaitGroup
	// A few sources at a time: every source pings all targets at once, and
	// more would measure this machine's CPU queue rather than the network.
	sem := make(chan struct{}, matrixSources)
	for i, from := range machines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i], errs[i] = l.pingAll(ctx, from, machines)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Matrix{}, fmt.Errorf("lab %q: matrix: %w", l.spec.Name, err)
	}
	for _, r := range results {
		mx.Pairs = append(mx.Pairs, r...)
	}
	return mx, nil
}

// pingAll runs one shell in from's container that pings every target in
// parallel and prints "<address> <exit status> <avg rtt ms>" per target. A
// container that is not running makes every pair from it unreachable.
func (l *Lab) pingAll(ctx context.Context, from Machine, all []Machine) ([]Pair, error) {
	var script strings.Builder
	for _, to := range all {
		if to.Name == from.Name {
			continue
		}
		a := to.Address.String()
		fmt.Fprintf(&script, "(out=$(ping -n -q -c 3 -i 0.2 -W 1 %s 2>&1); rc=$?; echo \"%s $rc $(echo \"$out\" | sed -n 's|.*= [0-9.]*/\\([0-9.]*\\)/.*|\\1|p')\") & ", a, a)
	}
	script.WriteString("wait")
	runner := execRunner{d: l.d, container: l.ContainerName(from.Name), name: from.Name}
	out, err := remote.Output(ctx, runner, script.String())
	down := false
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		running, rerr := l.running(ctx, from.Name)
		if rerr != nil || running {
			return nil, fmt.Errorf("ping from %s: %w", from.Name, err)
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

// running reports whether machine name's container runs.
func (l *Lab) running(ctx context.Context, name string) (bool, error) {
	if ok, err := l.containerExists(ctx, name); err != nil || !ok {
		return false, err
	}
	out, err := l.d.run(ctx, nil, "inspect", "--format", "{{.State.Running}}", l.ContainerName(name))
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(out) == "true", nil
}

// MatrixUntil measures the matrix until done accepts it or ctx ends, and
// returns the last matrix measured: tunnels that were just configured take a
// few seconds to shake hands. It returns ctx's error only when no matrix
// was measured at all.
func (l *Lab) MatrixUntil(ctx context.Context, done func(Matrix) bool) (Matrix, error) {
	var last Matrix
	measured := false
	for {
		m, err := l.Matrix(ctx)
		if err != nil {
			if measured && ctx.Err() != nil {
				return last, nil
			}
			return last, err
		}
		last, measured = m, true
		if done(m) {
			return m, nil
		}
		select {
		case <-ctx.Done():
			return last, nil
		case <-time.After(500 * time.Millisecond):
		}
	}
}

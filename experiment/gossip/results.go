package gossip

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// Phase is a part of the run relative to the partition.
type Phase string

// The phases, in order.
const (
	Before Phase = "before"
	During Phase = "during"
	After  Phase = "after"
)

// Phases are the phases in order.
var Phases = []Phase{Before, During, After}

// PeerState is what one peer reports (GET /state): what it published and
// what it received, times in Unix nanoseconds.
type PeerState struct {
	Node      string     `json:"node"`
	ID        string     `json:"id"`
	Connected []string   `json:"connected"`
	Sent      [][2]int64 `json:"sent"` // [seq, sentNs]
	Received  []Receipt  `json:"received"`
}

// Receipt is one message a peer received.
type Receipt struct {
	From   string `json:"from"`
	Seq    int64  `json:"seq"`
	SentNs int64  `json:"sentNs"`
	RecvNs int64  `json:"recvNs"`
}

// Timeline is when the run's phases began and ended: the warm-up's end,
// the partition (Cut, when the cut began; CutDone, when every tunnel of
// the site was cut), the heal likewise, and the end of the run.
type Timeline struct {
	Start, Cut, CutDone, Heal, HealDone, End time.Time
}

// Input is what Compute needs: the peers' states, which site each peer
// runs in, the emulated one-way shape between every two sites, and the
// run's timeline.
type Input struct {
	States []PeerState
	// SiteOf maps a peer (its node's name) to its site.
	SiteOf map[string]string
	// OneWay is the emulated one-way delay from a site to another (the sum
	// along the route its traffic takes), Floor the least a datagram can
	// take on it (the delays less their jitter). Both directions of every
	// pair of sites with peers are needed.
	OneWay, Floor map[[2]string]time.Duration
	Partitioned   string
	Timeline      Timeline
	// Deadline is how long after its sending a message may arrive and
	// still count as delivered.
	Deadline time.Duration
}

// Results are what a gossip run measured; results.json holds them.
type Results struct {
	// Pairs is the delivery latency per ordered pair of sites (from the
	// publisher's site to the receiver's), of the messages delivered in
	// time, beside the emulated one-way delay; MinMs is the least latency
	// of every message that arrived, late ones included.
	Pairs []Pair `json:"pairs"`
	// Delivery is per site and phase the share of the messages published
	// in the other sites that the site's peers received in time.
	Delivery    []Delivery `json:"delivery"`
	Partitioned string     `json:"partitioned"`
	// Phases are the windows of send times each phase counts, as offsets
	// from the run's start.
	Phases     []Window `json:"phases"`
	DeadlineMs float64  `json:"deadlineMs"`
	// CrossedDuringCut counts messages that crossed between the
	// partitioned site and the others while the partition held (after
	// what was in flight at the cut had landed): zero, or the cut leaked.
	CrossedDuringCut int `json:"crossedDuringCut"`
	// Late counts messages that arrived, but after the deadline.
	Late  int          `json:"late"`
	Peers []PeerResult `json:"peers"`
	// Problems are the must-holds that failed: a latency below the
	// emulated delay, traffic across the cut, a site that received
	// nothing before the cut or after the heal. Empty on a good run.
	Problems []string `json:"problems"`
	// Notes say what was not counted: a phase not reached (a run cut
	// short) or too short for the deadline.
	Notes []string `json:"notes,omitempty"`
}

// Pair is the delivery latency from one site to another.
type Pair struct {
	From     string  `json:"from"`
	To       string  `json:"to"`
	OneWayMs float64 `json:"oneWayMs"`
	// RTTMs is the emulated round trip: the one-way delays both ways.
	RTTMs float64 `json:"rttMs"`
	P50Ms float64 `json:"p50Ms"`
	P99Ms float64 `json:"p99Ms"`
	MinMs float64 `json:"minMs"`
	Count int     `json:"count"`
}

// Delivery is one site's delivery ratio in one phase.
type Delivery struct {
	Site      string  `json:"site"`
	Phase     Phase   `json:"phase"`
	Ratio     float64 `json:"ratio"`
	Delivered int     `json:"delivered"`
	Expected  int     `json:"expected"`
}

// Window is the span of send times a phase counts, from the run's start.
type Window struct {
	Phase   Phase   `json:"phase"`
	StartMs float64 `json:"startMs"`
	EndMs   float64 `json:"endMs"`
}

// PeerResult is one peer's totals.
type PeerResult struct {
	Node     string `json:"node"`
	Site     string `json:"site"`
	Sent     int    `json:"sent"`
	Received int    `json:"received"`
}

type window struct {
	phase      Phase
	start, end int64 // send times, ns: [start, end)
}

// windows are the send-time windows of the phases reached: a message
// counts in a phase when sent in it at least Deadline before its end, so
// that its deadline falls inside the phase too. A phase ends at the next
// event or at the end of the run; one not reached (a run cut short) or not
// longer than the deadline has no window, and a note says so.
func (in Input) windows() ([]window, []string, error) {
	tl, d := in.Timeline, in.Deadline
	var set []time.Time
	for _, t := range []time.Time{tl.Start, tl.Cut, tl.CutDone, tl.Heal, tl.HealDone, tl.End} {
		if !t.IsZero() {
			set = append(set, t)
		}
	}
	if tl.Start.IsZero() || tl.End.IsZero() || !slices.IsSortedFunc(set, time.Time.Compare) ||
		tl.Cut.IsZero() != tl.CutDone.IsZero() || tl.Heal.IsZero() != tl.HealDone.IsZero() || tl.Cut.IsZero() && !tl.Heal.IsZero() {
		return nil, nil, fmt.Errorf("timeline %s: want start <= cut <= cut done <= heal <= heal done <= end, start and end set", tl)
	}
	or := func(t, other time.Time) time.Time {
		if t.IsZero() {
			return other
		}
		return t
	}
	spans := []struct {
		p          Phase
		start, end time.Time
	}{{Before, tl.Start, or(tl.Cut, tl.End)}, {During, tl.CutDone, or(tl.Heal, tl.End)}, {After, tl.HealDone, tl.End}}
	var out []window
	var notes []string
	for _, s := range spans {
		switch {
		case s.start.IsZero():
			notes = append(notes, fmt.Sprintf("phase %s: not reached", s.p))
		case s.end.Sub(s.start) <= d:
			notes = append(notes, fmt.Sprintf("phase %s: %v long, not longer than the deadline %v: not counted", s.p, s.end.Sub(s.start), d))
		default:
			out = append(out, window{s.p, s.start.UnixNano(), s.end.Add(-d).UnixNano()})
		}
	}
	return out, notes, nil
}

// String shows the timeline as offsets from its start.
func (tl Timeline) String() string {
	var b strings.Builder
	for i, t := range []time.Time{tl.Start, tl.Cut, tl.CutDone, tl.Heal, tl.HealDone, tl.End} {
		name := []string{"start", "cut", "cut done", "heal", "heal done", "end"}[i]
		switch {
		case t.IsZero():
			fmt.Fprintf(&b, " %s -", name)
		default:
			fmt.Fprintf(&b, " %s %v", name, t.Sub(tl.Start))
		}
	}
	return "[" + strings.TrimSpace(b.String()) + "]"
}

func (in Input) validate() error {
	var errs []error
	if in.Deadline <= 0 {
		errs = append(errs, fmt.Errorf("deadline %v: must be positive", in.Deadline))
	}
	sites := map[string]bool{}
	for _, s := range in.SiteOf {
		sites[s] = true
	}
	if !sites[in.Partitioned] {
		errs = append(errs, fmt.Errorf("partitioned site %q: no peer runs there", in.Partitioned))
	}
	seen := map[string]bool{}
	for _, st := range in.States {
		if _, ok := in.SiteOf[st.Node]; !ok {
			errs = append(errs, fmt.Errorf("peer %q: not a peer of the run", st.Node))
		}
		if seen[st.Node] {
			errs = append(errs, fmt.Errorf("peer %q: reported twice", st.Node))
		}
		seen[st.Node] = true
		for _, r := range st.Received {
			if _, ok := in.SiteOf[r.From]; !ok {
				errs = append(errs, fmt.Errorf("peer %q: received from %q, not a peer of the run", st.Node, r.From))
				break
			}
		}
	}
	for a := range sites {
		for b := range sites {
			if a == b {
				continue
			}
			for name, m := range map[string]map[[2]string]time.Duration{"one-way delay": in.OneWay, "floor": in.Floor} {
				if d, ok := m[[2]string{a, b}]; !ok || d < 0 {
					errs = append(errs, fmt.Errorf("sites %s to %s: %s missing or negative", a, b, name))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Compute turns the peers' states into the run's results: latency per
// site pair, delivery per site and phase, and the must-holds checked
// (Results.Problems). Bad input (a peer or site it does not know, a
// timeline out of order, a phase not longer than the deadline) is an error
// naming it.
func Compute(in Input) (Results, error) {
	if err := in.validate(); err != nil {
		return Results{}, err
	}
	wins, notes, err := in.windows()
	if err != nil {
		return Results{}, err
	}
	d := in.Deadline.Nanoseconds()
	res := Results{Partitioned: in.Partitioned, DeadlineMs: ms(d), Pairs: []Pair{}, Delivery: []Delivery{}, Problems: []string{}, Notes: notes}
	start := in.Timeline.Start.UnixNano()
	for _, w := range wins {
		res.Phases = append(res.Phases, Window{Phase: w.phase, StartMs: ms(w.start - start), EndMs: ms(w.end - start)})
	}
	phaseOf := func(sent int64) (Phase, bool) {
		for _, w := range wins {
			if sent >= w.start && sent < w.end {
				return w.phase, true
			}
		}
		return "", false
	}
	type msg struct {
		from string
		seq  int64
	}
	sent := map[string][][2]int64{} // by publisher
	for _, st := range in.States {
		sent[st.Node] = st.Sent
	}
	type pk [2]string
	lat := map[pk][]float64{}
	least := map[pk]float64{}
	type dk struct {
		site  string
		phase Phase
	}
	delivered, expected := map[dk]int{}, map[dk]int{}
	// The cut holds from its end until the heal, less what was in flight
	// when it began: at most the longest one-way delay into or out of the
	// site, and a second for the peers to read it.
	var inFlight time.Duration
	for k, v := range in.OneWay {
		if k[0] == in.Partitioned || k[1] == in.Partitioned {
			inFlight = max(inFlight, v)
		}
	}
	cutFrom, cutTo := in.Timeline.CutDone.Add(inFlight+time.Second).UnixNano(), in.Timeline.Heal.UnixNano()
	switch {
	case in.Timeline.Cut.IsZero():
		cutFrom, cutTo = 0, 0
	case in.Timeline.Heal.IsZero():
		cutTo = in.Timeline.End.UnixNano()
	}
	for _, st := range slices.SortedFunc(slices.Values(in.States), func(a, b PeerState) int { return cmp.Compare(a.Node, b.Node) }) {
		to := in.SiteOf[st.Node]
		res.Peers = append(res.Peers, PeerResult{Node: st.Node, Site: to, Sent: len(st.Sent), Received: len(st.Received)})
		got := map[msg]int64{} // latency, ns
		for _, r := range st.Received {
			from := in.SiteOf[r.From]
			l := r.RecvNs - r.SentNs
			if _, dup := got[msg{r.From, r.Seq}]; !dup {
				got[msg{r.From, r.Seq}] = l
			}
			k := pk{from, to}
			if v, ok := least[k]; !ok || ms(l) < v {
				least[k] = ms(l)
			}
			if from != to && (from == in.Partitioned) != (to == in.Partitioned) && r.RecvNs >= cutFrom && r.RecvNs < cutTo {
				res.CrossedDuringCut++
			}
			if _, counted := phaseOf(r.SentNs); counted {
				if l <= d {
					lat[k] = append(lat[k], ms(l))
				} else {
					res.Late++
				}
			}
		}
		for pub, msgs := range sent {
			if in.SiteOf[pub] == to {
				continue
			}
			for _, m := range msgs {
				p, ok := phaseOf(m[1])
				if !ok {
					continue
				}
				expected[dk{to, p}]++
				if l, ok := got[msg{pub, m[0]}]; ok && l <= d {
					delivered[dk{to, p}]++
				}
			}
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(least), func(a, b pk) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	}) {
		p := Pair{From: k[0], To: k[1], OneWayMs: ms(in.OneWay[k].Nanoseconds()),
			RTTMs: ms((in.OneWay[k] + in.OneWay[pk{k[1], k[0]}]).Nanoseconds()), MinMs: least[k], Count: len(lat[k])}
		if len(lat[k]) > 0 {
			p.P50Ms, p.P99Ms = percentile(lat[k], 50), percentile(lat[k], 99)
		}
		res.Pairs = append(res.Pairs, p)
		if floor := ms(in.Floor[k].Nanoseconds()); k[0] != k[1] && p.MinMs < floor {
			res.Problems = append(res.Problems, fmt.Sprintf("%s to %s: a message arrived in %.2f ms, below the emulated one-way delay of %.2f ms", k[0], k[1], p.MinMs, floor))
		}
	}
	for _, site := range slices.Sorted(maps.Keys(in.siteSet())) {
		for _, w := range wins {
			p := w.phase
			k := dk{site, p}
			dl := Delivery{Site: site, Phase: p, Delivered: delivered[k], Expected: expected[k]}
			if dl.Expected > 0 {
				dl.Ratio = math.Round(float64(dl.Delivered)/float64(dl.Expected)*10000) / 10000
			}
			res.Delivery = append(res.Delivery, dl)
			switch {
			case (p == Before || p == After && site == in.Partitioned) && dl.Delivered == 0:
				res.Problems = append(res.Problems, fmt.Sprintf("site %s received nothing in time from the other sites %s the partition (%d messages expected)", site, p, dl.Expected))
			case p == During && site == in.Partitioned && dl.Delivered > 0:
				res.Problems = append(res.Problems, fmt.Sprintf("site %s received %d messages from the other sites during its partition", site, dl.Delivered))
			}
		}
	}
	if res.CrossedDuringCut > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("%d messages crossed between site %s and the others while it was cut off", res.CrossedDuringCut, in.Partitioned))
	}
	return res, nil
}

func (in Input) siteSet() map[string]bool {
	out := map[string]bool{}
	for _, s := range in.SiteOf {
		out[s] = true
	}
	return out
}

// percentile is the nearest-rank p-th percentile of xs.
func percentile(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(ns int64) float64 { return math.Round(float64(ns)/1e4) / 100 }

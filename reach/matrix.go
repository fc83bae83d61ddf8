package reach

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/planetstage/planetstage/topology"
)

// Pair is one ordered pair of the reachability matrix: From pinged To's
// address (a router's LAN address) from inside the machine.
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
	RTTms     float64 `json:"rttMs"`
}

// MarshalJSON writes {"from","to","reachable","rttMs"}.
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

// WithinSites is the reachability of t before its tunnels (the thesis's
// table 4.6): from reaches to exactly when both are in the same site. Pass
// it to Matrix.Mismatches.
func WithinSites(t *topology.Topology) func(from, to string) bool {
	site := sites(t)
	return func(from, to string) bool { return site[from] == site[to] }
}

// sites maps each machine of t to its site's name.
func sites(t *topology.Topology) map[string]string {
	site := map[string]string{}
	for _, m := range t.Machines() {
		site[m.Name] = m.Site.Name
	}
	return site
}

// Mismatches lists, in the matrix's order, the pairs whose reachability
// differs from want(from, to).
func (m Matrix) Mismatches(want func(from, to string) bool) []Pair {
	var out []Pair
	for _, p := range m.Pairs {
		if p.Reachable != want(p.From, p.To) {
			out = append(out, p)
		}
	}
	return out
}

// CheckConnected returns nil when every pair of the matrix reached, else
// an error that counts the pairs that did not and names the first five:
// "3 of 110 pairs unreachable: lb→node01, …".
func (m Matrix) CheckConnected() error {
	broken := m.Unreachable()
	if len(broken) == 0 {
		return nil
	}
	var pairs []string
	for _, p := range broken[:min(len(broken), 5)] {
		pairs = append(pairs, p.From+"→"+p.To)
	}
	if len(broken) > 5 {
		pairs = append(pairs, fmt.Sprintf("and %d more", len(broken)-5))
	}
	return fmt.Errorf("%d of %d pairs unreachable: %s", len(broken), len(m.Pairs), strings.Join(pairs, ", "))
}

// WriteRTTs writes the round trip time of every reachable pair whose
// machines are in different sites of t (the pings crossed a tunnel), one
// line per pair in the matrix's order, under a title line.
func (m Matrix) WriteRTTs(w io.Writer, t *topology.Topology) error {
	site := sites(t)
	var b strings.Builder
	b.WriteString("Round trip times across sites (ms, average of 3 pings):\n")
	n := 0
	for _, p := range m.Pairs {
		if site[p.From] != site[p.To] && p.Reachable {
			fmt.Fprintf(&b, "  %-9s -> %-9s %7.3f\n", p.From, p.To, float64(p.RTT)/float64(time.Millisecond))
			n++
		}
	}
	if n == 0 {
		b.WriteString("  (no pair across sites answered)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

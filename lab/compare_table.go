package lab

import (
	"fmt"
	"math"
	"strings"

	"github.com/planetstage/planetstage/wan"
)

// ComparisonRow is one site pair under one latency setting, every kind
// beside the others.
type ComparisonRow struct {
	From, To string
	Latency  Latency
	// TargetMs is the emulated RTT (0 without latency).
	TargetMs float64
	// DirectMs is the RTT between the routers' underlay addresses (no
	// tunnel, no relay); NaN when it was not measured.
	DirectMs float64
	// Kinds are in Comparison.Kinds' order.
	Kinds []KindCell
}

// KindCell is what one kind measured for a row.
type KindCell struct {
	Kind string
	// RTTMs is the median RTT through the tunnel; NaN when not measured.
	RTTMs float64
	// OverheadMs is what the tunnel adds to the RTT: RTTMs less the
	// target and the direct RTT. NaN when either is missing.
	OverheadMs float64
	// TunnelMbps, DirectMbps and CPUPct are the TCP throughput through
	// the tunnel and between the routers' underlay addresses, and the
	// busier router's CPU in percent of one core during the tunnel run;
	// NaN when not measured.
	TunnelMbps, DirectMbps, CPUPct float64
}

// Rows are the comparison's site pairs, each under each latency setting,
// in the order the first measurement of each setting lists them.
func (c Comparison) Rows() []ComparisonRow {
	direct := map[wan.Pair]float64{}
	for _, d := range c.Direct {
		direct[wan.NewPair(d.From, d.To)] = d.MeasuredMs
	}
	type key struct {
		pair    wan.Pair
		latency Latency
	}
	var rows []ComparisonRow
	index := map[key]int{}
	row := func(from, to string, lat Latency) *ComparisonRow {
		k := key{wan.NewPair(from, to), lat}
		if i, ok := index[k]; ok {
			return &rows[i]
		}
		r := ComparisonRow{From: from, To: to, Latency: lat, DirectMs: math.NaN(), TargetMs: math.NaN()}
		if d, ok := direct[k.pair]; ok {
			r.DirectMs = d
		}
		for _, kind := range c.Kinds {
			nan := math.NaN()
			r.Kinds = append(r.Kinds, KindCell{Kind: kind, RTTMs: nan, OverheadMs: nan, TunnelMbps: nan, DirectMbps: nan, CPUPct: nan})
		}
		index[k] = len(rows)
		rows = append(rows, r)
		return &rows[len(rows)-1]
	}
	cell := func(r *ComparisonRow, kind string) *KindCell {
		for i := range r.Kinds {
			if r.Kinds[i].Kind == kind {
				return &r.Kinds[i]
			}
		}
		return &KindCell{} // a kind not asked for: dropped
	}
	// Rows in the settings' order, so that a pair's rows follow each other.
	for _, lat := range c.Latencies {
		for _, run := range c.Runs {
			if run.Latency != lat {
				continue
			}
			for _, s := range run.Sites {
				r := row(s.From, s.To, lat)
				r.TargetMs = s.TargetMs
				k := cell(r, run.Kind)
				k.RTTMs = s.MeasuredMs
				k.OverheadMs = s.MeasuredMs - s.TargetMs - r.DirectMs
			}
			for _, t := range run.Tunnels {
				k := cell(row(t.From, t.To, lat), run.Kind)
				k.TunnelMbps, k.DirectMbps, k.CPUPct = t.TunnelMbps, t.DirectMbps, t.RouterCPUPct
			}
		}
	}
	return rows
}

// Table renders the comparison as one Markdown table, every kind side by
// side for each site pair and latency setting, with how the lab was
// switched and what "none" means on it below.
func (c Comparison) Table() string {
	var b strings.Builder
	cols := []string{"from", "to", "latency", "target ms", "direct ms"}
	align := []string{"---", "---", "---", "---:", "---:"}
	groups := []string{"%s ms", "%s +ms", "%s Mbit/s", "%s CPU %%"}
	for _, g := range groups {
		for _, kind := range c.Kinds {
			cols, align = append(cols, fmt.Sprintf(g, kind)), append(align, "---:")
		}
		if g == "%s Mbit/s" {
			cols, align = append(cols, "direct Mbit/s"), append(align, "---:")
		}
	}
	fmt.Fprintf(&b, "| %s |\n|%s|\n", strings.Join(cols, " | "), strings.Join(align, "|"))
	for _, r := range c.Rows() {
		fields := []string{r.From, r.To, string(r.Latency), num(r.TargetMs, "%.2f"), num(r.DirectMs, "%.2f")}
		for _, k := range r.Kinds {
			fields = append(fields, num(k.RTTMs, "%.2f"))
		}
		for _, k := range r.Kinds {
			fields = append(fields, num(k.OverheadMs, "%+.2f"))
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, k := range r.Kinds {
			fields = append(fields, num(k.TunnelMbps, "%.0f"))
			if !math.IsNaN(k.DirectMbps) {
				lo, hi = min(lo, k.DirectMbps), max(hi, k.DirectMbps)
			}
		}
		switch {
		case math.IsInf(lo, 1):
			fields = append(fields, "-")
		case math.Round(lo) == math.Round(hi):
			fields = append(fields, fmt.Sprintf("%.0f", lo))
		default:
			fields = append(fields, fmt.Sprintf("%.0f to %.0f", lo, hi))
		}
		for _, k := range r.Kinds {
			fields = append(fields, num(k.CPUPct, "%.0f"))
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(fields, " | "))
	}
	fmt.Fprintf(&b, "\nlatency none: %s\n", c.WithoutLatency)
	b.WriteString("+ms: the tunnel's RTT less the target and the direct RTT; direct: the routers' underlay addresses, no tunnel, no relay\n")
	for _, run := range c.Runs {
		if run.TunnelsSkipped != "" {
			fmt.Fprintf(&b, "%s, latency %s: throughput not measured: %s\n", run.Kind, run.Latency, run.TunnelsSkipped)
		}
		if run.Sample != "" {
			fmt.Fprintf(&b, "%s, latency %s: sampled %s\n", run.Kind, run.Latency, run.Sample)
		}
	}
	for _, s := range c.Switches {
		verb := "switched to"
		if s.Restore {
			verb = "restored"
		}
		fmt.Fprintf(&b, "%s %s: %d steps changed, every pair answering, in %.1fs\n", verb, s.Kind, s.Changed, s.Seconds)
	}
	return b.String()
}

// num formats v, or "-" when it was not measured.
func num(v float64, format string) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

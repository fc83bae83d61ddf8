package gossip

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/planetstage/planetstage/experiment"
)

// Sections are the results as tables for the run's report.html.
func Sections(res Results) []experiment.Section {
	pairs := experiment.Section{Title: "Gossip: delivery latency per site pair",
		Note:    fmt.Sprintf("From the publisher's site to the receiver's, of the messages delivered within %.0f ms; the emulated one-way delay and RTT are the WAN relay's. Latency is the receive time minus the send time, on one clock (the lab's containers share the host's).", res.DeadlineMs),
		Columns: []string{"from → to", "one-way (emulated)", "RTT (emulated)", "p50", "p99", "min", "messages"}}
	for _, p := range res.Pairs {
		pairs.Rows = append(pairs.Rows, []string{p.From + " → " + p.To, f2(p.OneWayMs), f2(p.RTTMs), f2(p.P50Ms), f2(p.P99Ms), f2(p.MinMs), fmt.Sprint(p.Count)})
	}
	delivery := experiment.Section{Title: "Gossip: delivery ratio per site, before, during and after the partition of " + res.Partitioned,
		Note:    "Of the messages the other sites published in the phase (at least the deadline before its end), the share the site's peers received within the deadline.",
		Columns: []string{"site", "phase", "ratio", "delivered", "expected"}}
	for _, d := range res.Delivery {
		delivery.Rows = append(delivery.Rows, []string{d.Site, string(d.Phase), fmt.Sprintf("%.4f", d.Ratio), fmt.Sprint(d.Delivered), fmt.Sprint(d.Expected)})
	}
	checks := experiment.Section{Title: "Gossip: must-holds", Columns: []string{"check", "outcome"}}
	if len(res.Problems) == 0 {
		checks.Rows = append(checks.Rows, []string{"no message faster than the emulated one-way delay; nothing across the cut while it held; the cut site received before and after", "PASS"})
	}
	for _, p := range res.Problems {
		checks.Rows = append(checks.Rows, []string{p, "FAIL"})
	}
	for _, n := range res.Notes {
		checks.Rows = append(checks.Rows, []string{n, "note"})
	}
	checks.Rows = append(checks.Rows, []string{"messages that crossed the cut while it held", fmt.Sprint(res.CrossedDuringCut)},
		[]string{"messages that arrived after the deadline", fmt.Sprint(res.Late)})
	return []experiment.Section{pairs, delivery, checks}
}

func f2(x float64) string { return fmt.Sprintf("%.2f", x) }

// WriteText prints the results as two tables, the way examples/gossip
// shows them.
func (res Results) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "from\tto\tone-way ms\tRTT ms\tp50 ms\tp99 ms\tmin ms\tmessages\t")
	for _, p := range res.Pairs {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%d\t\n", p.From, p.To, p.OneWayMs, p.RTTMs, p.P50Ms, p.P99Ms, p.MinMs, p.Count)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nDelivery ratio per site (within %.0f ms), site %s partitioned:\n", res.DeadlineMs, res.Partitioned)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	var phases []string
	ratio := map[string]map[string]string{}
	var sites []string
	for _, d := range res.Delivery {
		if ratio[d.Site] == nil {
			ratio[d.Site] = map[string]string{}
			sites = append(sites, d.Site)
		}
		if !slices.Contains(phases, string(d.Phase)) {
			phases = append(phases, string(d.Phase))
		}
		ratio[d.Site][string(d.Phase)] = fmt.Sprintf("%.3f (%d/%d)", d.Ratio, d.Delivered, d.Expected)
	}
	fmt.Fprintf(tw, "site\t%s\t\n", strings.Join(phases, "\t"))
	for _, s := range sites {
		var cells []string
		for _, p := range phases {
			cells = append(cells, ratio[s][p])
		}
		mark := ""
		if s == res.Partitioned {
			mark = " (cut)"
		}
		fmt.Fprintf(tw, "%s%s\t%s\t\n", s, mark, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

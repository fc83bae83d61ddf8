package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// --geo PRESET places the thesis's sites in the cities of one of package
// wan's presets (topology.PlaceSites). The topology then has latency, so
// the lab places its WAN relay between the routers and the tunnels get the
// RTTs of those distances; once they carry traffic the run measures every
// site pair through its tunnel and prints, and reports, target against
// measured RTT. A pair more than geoTolerancePct off its target fails the
// run.

// geoTolerancePct is how far a measured RTT may be from its target.
const geoTolerancePct = 5

// geoPings is the series each pair's median comes from.
const geoPings = 20

// geoReport is the --geo part of --report.
type geoReport struct {
	Preset string `json:"preset"`
	// Relay is where the lab's WAN relay listened: "ADDR:FIRST-LAST".
	Relay string `json:"relay"`
	// Sites has, per site pair, the target RTT, the median measured through
	// the tunnel (of Pings pings), and the error in percent of the target.
	Sites []wan.SiteResult `json:"sites"`
	Pings int              `json:"pings"`
}

// measureGeo measures the RTT of every site pair through its tunnel in the
// running lab l, prints the table and returns the report; nil without a
// preset.
func measureGeo(ctx context.Context, l *lab.Lab, preset string, out io.Writer) (*geoReport, error) {
	if preset == "" {
		return nil, nil
	}
	relay := l.Relay()
	if relay == nil {
		return nil, fmt.Errorf("--geo %s: the lab placed no WAN relay", preset)
	}
	first, last := relay.Ports()
	r := &geoReport{Preset: preset, Relay: fmt.Sprintf("%s:%d-%d", relay.Bind, first, last), Pings: geoPings}
	start := time.Now()
	rep, err := l.MeasureWAN(ctx, layer.MeasureOptions{Pings: geoPings, Interval: 100 * time.Millisecond}, nil)
	r.Sites = rep.Sites
	fmt.Fprintf(out, "\nRound trip times between the sites through the tunnels, --geo %s (median of %d pings, measured in %s; WAN relay on %s):\n",
		preset, geoPings, time.Since(start).Round(100*time.Millisecond), r.Relay)
	printGeo(out, l.Topology(), r.Sites)
	if err != nil {
		return r, fmt.Errorf("--geo %s: %w", preset, err)
	}
	for _, s := range r.Sites {
		if math.Abs(s.ErrorPct) > geoTolerancePct {
			return r, fmt.Errorf("--geo %s: %s-%s measured %.2f ms, %.2f %% off the target %.2f ms (allowed: %d %%)",
				preset, s.From, s.To, s.MeasuredMs, s.ErrorPct, s.TargetMs, geoTolerancePct)
		}
	}
	return r, nil
}

// printGeo prints the per-pair table, with each site's city.
func printGeo(w io.Writer, t *topology.Topology, sites []wan.SiteResult) {
	city := map[string]string{}
	for _, s := range t.Sites {
		if s.Location != nil {
			city[s.Name] = s.Location.City
		}
	}
	fmt.Fprintf(w, "  %-24s %-24s %9s %11s %8s\n", "from", "to", "target ms", "measured ms", "error %")
	for _, s := range sites {
		fmt.Fprintf(w, "  %-24s %-24s %9.2f %11.2f %+8.2f\n",
			s.From+" ("+city[s.From]+")", s.To+" ("+city[s.To]+")", s.TargetMs, s.MeasuredMs, s.ErrorPct)
	}
}

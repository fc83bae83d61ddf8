package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/testbed"
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
// running lab, prints the table and returns the report; nil without a
// preset.
func measureGeo(ctx context.Context, tb *testbed.Testbed, preset string, out io.Writer) (*geoReport, error) {
	if preset == "" {
		return nil, nil
	}
	l, err := tb.Lab(ctx)
	if err != nil {
		return nil, err
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
	city := map[string]string{}
	for _, s := range l.Topology().Sites {
		if s.Location != nil {
			city[s.Name] = s.Location.City
		}
	}
	wan.WriteSites(out, r.Sites, city)
	if err == nil {
		err = wan.CheckSites(r.Sites, geoTolerancePct)
	}
	if err != nil {
		return r, fmt.Errorf("--geo %s: %w", preset, err)
	}
	return r, nil
}

package topology

import (
	"fmt"
	"math"
	"time"

	"github.com/planetstage/planetstage/wan"
)

// LatencyModel returns the latency model the topology describes (sites'
// locations, explicit links, inflation), or nil when it describes none.
// Plan uses it when Env.Latency is not set.
func (t *Topology) LatencyModel() *wan.Model {
	m := &wan.Model{}
	located := false
	for _, s := range t.Sites {
		site := wan.Site{Name: s.Name}
		if l := s.Location; l != nil {
			located = true
			if l.City != "" {
				site.City = l.City
			} else {
				site.Location = &wan.Coord{Lat: l.Lat, Lon: l.Lon}
			}
		}
		m.Sites = append(m.Sites, site)
	}
	if t.Latency != nil {
		m.Inflation = t.Latency.Inflation
		for _, l := range t.Latency.Links {
			m.Links = append(m.Links, wan.Explicit{From: l.From, To: l.To, Link: wan.Link{
				RTT:     ms(l.RTTMs),
				Jitter:  ms(l.JitterMs),
				LossPct: l.LossPct,
			}})
		}
	}
	if !located && len(m.Links) == 0 {
		return nil
	}
	return m
}

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

func (v *validator) latency(t *Topology) {
	for i, s := range t.Sites {
		l := s.Location
		if l == nil {
			continue
		}
		p := fmt.Sprintf("sites[%d].location", i)
		latOK, lonOK := v.finite(p+".lat", l.Lat), v.finite(p+".lon", l.Lon)
		switch {
		case !latOK || !lonOK:
			// reported; no range or city check means anything for NaN
		case l.City != "" && (l.Lat != 0 || l.Lon != 0):
			v.addf(p, "give a city or coordinates, not both")
		case l.City != "":
			if _, ok := wan.LookupCity(l.City); !ok {
				v.addf(p+".city", "unknown city %q; give lat and lon instead, or see wan.Cities", l.City)
			}
		default:
			if err := (wan.Coord{Lat: l.Lat, Lon: l.Lon}).Validate(); err != nil {
				v.addf(p, "%v", err)
			}
		}
	}
	if t.Latency == nil {
		return
	}
	if inf := t.Latency.Inflation; v.finite("latency.inflation", inf) && inf != 0 && inf < 1 {
		v.addf("latency.inflation", "%v: a route is never shorter than the great circle; use 1 or more", inf)
	}
	seen := map[[2]string]string{}
	for i, l := range t.Latency.Links {
		p := fmt.Sprintf("latency.links[%d]", i)
		for _, end := range []struct{ field, site string }{{"from", l.From}, {"to", l.To}} {
			if _, ok := t.Site(end.site); !ok {
				v.addf(p+"."+end.field, "unknown site %q%s", end.site, known(siteNames(t)))
			}
		}
		if l.From == l.To {
			v.addf(p, "a link joins two different sites")
		}
		pair := [2]string{min(l.From, l.To), max(l.From, l.To)}
		if other, dup := seen[pair]; dup {
			v.addf(p, "%s–%s is already set by %s", l.From, l.To, other)
		}
		seen[pair] = p
		if v.finite(p+".rttMs", l.RTTMs) && l.RTTMs <= 0 {
			v.addf(p+".rttMs", "%v: want a round-trip time above 0 ms", l.RTTMs)
		}
		if v.finite(p+".jitterMs", l.JitterMs) && l.JitterMs < 0 {
			v.addf(p+".jitterMs", "%v is negative", l.JitterMs)
		}
		if v.finite(p+".lossPct", l.LossPct) && (l.LossPct < 0 || l.LossPct > 100) {
			v.addf(p+".lossPct", "%v: want a percentage from 0 to 100", l.LossPct)
		}
	}
}

// finite reports whether x is a number, reporting NaN and ±Inf at path:
// NaN passes every comparison and Inf every lower bound, so the range
// checks that follow would let them through to the WAN emulation.
func (v *validator) finite(path string, x float64) bool {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		v.addf(path, "%v is not a finite number", x)
		return false
	}
	return true
}

// PlaceSites gives t's sites, in order, the locations of one of package
// wan's presets ("planet": Tokyo, Frankfurt, São Paulo): the topology then
// has latency. An empty preset leaves t alone; an unknown one is an error
// that lists the presets.
func (t *Topology) PlaceSites(preset string) error {
	if preset == "" {
		return nil
	}
	names := make([]string, len(t.Sites))
	for i, s := range t.Sites {
		names[i] = s.Name
	}
	sites, err := wan.GeoPreset(preset, names)
	if err != nil {
		return err
	}
	for i, s := range sites {
		loc := &Location{City: s.City}
		if s.City == "" && s.Location != nil {
			loc = &Location{Lat: s.Location.Lat, Lon: s.Location.Lon}
		}
		t.Sites[i].Location = loc
	}
	return nil
}

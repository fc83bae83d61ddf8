package topology

import (
	"fmt"
	"math"
	"slices"

	"github.com/planetstage/planetstage/wan"
)

// Hubs returns, for a regional VPN, the hub each site's traffic goes
// through: a hub maps to itself, a spoke to the hub it names (Site.Hub)
// or else to the nearest hub by great-circle distance between the sites'
// locations (ties go to the hub listed first). Nil for the other modes.
// It fails, naming the site, when a spoke names no hub and it or a hub
// has no location to measure by; Validate reports the same.
func (t *Topology) Hubs() (map[string]string, error) {
	if t.VPN == nil || t.VPN.Mode != VPNRegional {
		return nil, nil
	}
	out := make(map[string]string, len(t.Sites))
	for _, h := range t.VPN.Hubs {
		out[h] = h
	}
	for i, s := range t.Sites {
		if slices.Contains(t.VPN.Hubs, s.Name) {
			continue
		}
		if s.Hub != "" {
			out[s.Name] = s.Hub
			continue
		}
		hub, err := t.nearestHub(s)
		if err != nil {
			return nil, fmt.Errorf("sites[%d].hub: %w", i, err)
		}
		out[s.Name] = hub
	}
	return out, nil
}

// nearestHub is the hub closest to spoke s.
func (t *Topology) nearestHub(s Site) (string, error) {
	from, ok := siteCoord(s)
	if !ok {
		return "", fmt.Errorf("site %q names no hub and has no location to find the nearest by; name one of vpn.hubs", s.Name)
	}
	best, bestKm := "", math.Inf(1)
	for _, h := range t.VPN.Hubs {
		hub, ok := t.Site(h)
		if !ok {
			continue // Validate reports it
		}
		to, ok := siteCoord(hub)
		if !ok {
			return "", fmt.Errorf("site %q names no hub, and hub %q has no location to measure the distance to; name its hub", s.Name, h)
		}
		if km := wan.DistanceKm(from, to); km < bestKm {
			best, bestKm = h, km
		}
	}
	if best == "" {
		return "", fmt.Errorf("site %q: no hub to join (vpn.hubs is empty)", s.Name)
	}
	return best, nil
}

// siteCoord is where s is, if its location says.
func siteCoord(s Site) (wan.Coord, bool) {
	l := s.Location
	switch {
	case l == nil:
		return wan.Coord{}, false
	case l.City != "":
		c, ok := wan.LookupCity(l.City)
		return c.Coord, ok
	}
	return wan.Coord{Lat: l.Lat, Lon: l.Lon}, true
}

// regional checks a regional VPN's hubs and the hubs its sites name.
func (v *validator) regional(t *Topology) {
	vp := t.VPN
	if vp.Hub != "" {
		v.addf("vpn.hub", "regional mode names its hubs in vpn.hubs")
	}
	if len(vp.Hubs) == 0 {
		v.addf("vpn.hubs", "regional mode needs at least one hub site%s", known(siteNames(t)))
		return
	}
	for i, h := range vp.Hubs {
		p := fmt.Sprintf("vpn.hubs[%d]", i)
		if _, ok := t.Site(h); !ok {
			v.addf(p, "unknown site %q%s", h, known(siteNames(t)))
		}
		if slices.Index(vp.Hubs, h) < i {
			v.addf(p, "%q is listed twice", h)
		}
	}
	for i, s := range t.Sites {
		p := fmt.Sprintf("sites[%d].hub", i)
		isHub := slices.Contains(vp.Hubs, s.Name)
		switch {
		case isHub && s.Hub != "":
			v.addf(p, "site %q is a hub itself; remove its hub", s.Name)
		case isHub:
		case s.Hub != "" && !slices.Contains(vp.Hubs, s.Hub):
			v.addf(p, "%q is not a hub; hubs are %v", s.Hub, vp.Hubs)
		case s.Hub == "":
			if _, err := t.nearestHub(s); err != nil {
				v.addf(p, "%v", err)
			}
		}
	}
}

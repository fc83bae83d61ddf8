package topology

import (
	"cmp"
	"fmt"
	"net/netip"

	"github.com/planetstage/planetstage/wan"
)

// PlanetOptions shape a generated testbed of one site per city.
type PlanetOptions struct {
	// Name is the topology's; "planet" when empty.
	Name string
	// Cities places the sites, one per city of package wan's table, in
	// order; each site is named after its city ("sao-paulo").
	Cities []string
	// Hubs are the cities whose sites are the regional hubs (vpn.mode
	// regional; every other site joins the nearest). None makes a mesh.
	Hubs []string
	// RouterKind is every router's kind; linux when empty. A vyos router
	// runs RouterVersion.
	RouterKind, RouterVersion string
	// Hosts per site; 1 when zero. Host i of a site is a worker.
	Hosts int
	// Underlay holds the routers' WAN addresses (10.50.0.0/16 when zero),
	// Sites the sites' /24s, one after the other (10.100.0.0/14: 1 024
	// sites), Transit the tunnels' /30s (10.255.0.0/16).
	Underlay, Sites, Transit netip.Prefix
}

// Planet returns a testbed of one site per city, joined by regional hubs
// or a mesh, with one router and o.Hosts hosts per site, its sites located
// in their cities so that the tunnels get the latency of the distances.
// The addresses are the options' prefixes cut in order: router i's WAN
// address is the underlay's (i+10)th, site i has the i-th /24 of Sites,
// its router .1 and its hosts .11 on. The result is validated.
func Planet(o PlanetOptions) (*Topology, error) {
	o.Name = cmp.Or(o.Name, "planet")
	o.RouterKind = cmp.Or(o.RouterKind, RouterLinux)
	if o.Hosts == 0 {
		o.Hosts = 1
	}
	if !o.Underlay.IsValid() {
		o.Underlay = netip.MustParsePrefix("10.50.0.0/16")
	}
	if !o.Sites.IsValid() {
		o.Sites = netip.MustParsePrefix("10.100.0.0/14")
	}
	if !o.Transit.IsValid() {
		o.Transit = netip.MustParsePrefix("10.255.0.0/16")
	}
	if len(o.Cities) == 0 {
		return nil, fmt.Errorf("planet: no cities")
	}
	if n := len(o.Cities); o.Sites.Bits() > 24 || n > 1<<(24-o.Sites.Bits()) {
		return nil, fmt.Errorf("planet: sites %s: %d sites need %d /24s", o.Sites, n, n)
	}
	if n := len(o.Cities); o.Underlay.Bits() > 30 || n+10 >= 1<<(32-o.Underlay.Bits()) {
		return nil, fmt.Errorf("planet: underlay %s: too small for %d routers", o.Underlay, n)
	}
	t := &Topology{
		Name:     o.Name,
		Underlay: Underlay{Prefix: o.Underlay.Masked()},
		VPN:      &VPN{Mode: VPNMesh, Transit: o.Transit.Masked()},
	}
	base := o.Sites.Masked().Addr().As4()
	wanBase := o.Underlay.Masked().Addr()
	names := map[string]string{} // city → site name
	for i, city := range o.Cities {
		c, ok := wan.LookupCity(city)
		if !ok {
			return nil, fmt.Errorf("planet: cities[%d]: unknown city %q; see wan.Cities", i, city)
		}
		name := wan.CityLabel(c.Name)
		if other, dup := names[c.Name]; dup {
			return nil, fmt.Errorf("planet: cities[%d]: %s is already site %s", i, c.Name, other)
		}
		names[c.Name] = name
		v := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 + uint32(i)<<8
		lan := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), 1})
		wanAddr := wanBase
		for range i + 10 {
			wanAddr = wanAddr.Next()
		}
		site := Site{
			Name:     name,
			VLAN:     100 + i,
			Prefix:   netip.PrefixFrom(lan, 24).Masked(),
			Router:   Router{Name: "rt-" + name, Kind: o.RouterKind, WAN: wanAddr, LAN: lan},
			Location: &Location{City: c.Name},
		}
		if o.RouterKind == RouterVyOS {
			site.Router.Version = o.RouterVersion
		}
		host := lan
		for range 10 {
			host = host.Next()
		}
		for h := range o.Hosts {
			site.Hosts = append(site.Hosts, Host{Name: fmt.Sprintf("%s-%d", name, h+1), Address: host, Role: RoleWorker})
			host = host.Next()
		}
		t.Sites = append(t.Sites, site)
	}
	if len(o.Hubs) > 0 {
		t.VPN.Mode = VPNRegional
		for i, h := range o.Hubs {
			c, ok := wan.LookupCity(h)
			if !ok || names[c.Name] == "" {
				return nil, fmt.Errorf("planet: hubs[%d]: %q is not one of the cities", i, h)
			}
			t.VPN.Hubs = append(t.VPN.Hubs, names[c.Name])
		}
	}
	t.SetDefaults()
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// PlanetPreset is Planet with the cities and hubs of one of package wan's
// presets ("planet50"), and every other option as given.
func PlanetPreset(preset string, o PlanetOptions) (*Topology, error) {
	cities, hubs, err := wan.GeoPresetCities(preset)
	if err != nil {
		return nil, err
	}
	o.Cities, o.Hubs = cities, hubs
	o.Name = cmp.Or(o.Name, preset)
	return Planet(o)
}

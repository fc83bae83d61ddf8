package topology

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// ParseEndpoint reads a vpn.wireguard.endpoints value: an IPv4 address,
// or an address and a port ("203.0.113.5" or "203.0.113.5:51820"). A zero
// port means each tunnel keeps its own.
func ParseEndpoint(s string) (netip.AddrPort, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		if !a.Is4() {
			return netip.AddrPort{}, fmt.Errorf("%q: want an IPv4 address", s)
		}
		return netip.AddrPortFrom(a, 0), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || !ap.Addr().Is4() || ap.Port() == 0 {
		return netip.AddrPort{}, fmt.Errorf("%q: want an IPv4 address, or ADDRESS:PORT with a port from 1 to 65535", s)
	}
	return ap, nil
}

// wireGuard checks vpn.wireguard: the keepalive, and that each endpoint
// names a router, parses, has a port only where the router has one tunnel,
// and is not where another tunnel end is reached.
func (v *validator) wireGuard(t *Topology) {
	// VyOS 1.2 (crux) takes a WireGuard listening port of 1024 or above.
	if last := t.VPN.Port + t.TunnelCount() - 1; t.VPN.Port > 0 && t.VPN.Port < 1024 {
		for i, s := range t.Sites {
			if ver := strings.ToLower(s.Router.Version); s.Router.Kind == RouterVyOS && (ver == "crux" || ver == "1.2" || strings.HasPrefix(ver, "1.2.")) {
				v.addf("vpn.port", "%d: WireGuard on VyOS 1.2 (sites[%d].router %s) listens on ports 1024-65535 only; the tunnels take %d-%d", t.VPN.Port, i, s.Router.Name, t.VPN.Port, last)
				break
			}
		}
	}
	wg := t.VPN.WireGuard
	if wg == nil {
		return
	}
	if wg.Keepalive < -1 || wg.Keepalive > 65535 {
		v.addf("vpn.wireguard.keepalive", "%d: want seconds from 1 to 65535, or -1 for none", wg.Keepalive)
	}
	tunnels := map[string]int{} // router → how many tunnels
	for _, p := range t.TunnelPairs() {
		for _, site := range p {
			if s, ok := t.Site(site); ok {
				tunnels[s.Router.Name]++
			}
		}
	}
	endpoints := map[string]netip.AddrPort{}
	for _, router := range slices.Sorted(func(yield func(string) bool) {
		for k := range wg.Endpoints {
			if !yield(k) {
				return
			}
		}
	}) {
		path := "vpn.wireguard.endpoints." + router
		if _, ok := t.routerSite(router); !ok {
			v.addf(path, "no router %q", router)
			continue
		}
		ap, err := ParseEndpoint(wg.Endpoints[router])
		if err != nil {
			v.addf(path, "%v", err)
			continue
		}
		if ap.Port() != 0 && tunnels[router] != 1 {
			v.addf(path, "port %d: router %s has %d tunnels, each on a port of its own; give the address only", ap.Port(), router, tunnels[router])
			continue
		}
		endpoints[router] = ap
	}
	// Where each tunnel end is reached: two at one address and port would
	// reach the same router.
	seen := map[netip.AddrPort]string{}
	for i, p := range t.TunnelPairs() {
		port := uint16(t.VPN.Port + i)
		for _, site := range p {
			idx := slices.IndexFunc(t.Sites, func(s Site) bool { return s.Name == site })
			if idx < 0 {
				continue
			}
			s := t.Sites[idx]
			at := netip.AddrPortFrom(s.Router.WAN, port)
			path := fmt.Sprintf("sites[%d].router.wan", idx)
			if ep, ok := endpoints[s.Router.Name]; ok {
				at = netip.AddrPortFrom(ep.Addr(), cmpPort(ep.Port(), port))
				path = "vpn.wireguard.endpoints." + s.Router.Name
			}
			if other, dup := seen[at]; dup {
				v.addf(path, "port clash: %s is also where %s is reached", at, other)
				continue
			}
			seen[at] = fmt.Sprintf("router %s (tunnel %d)", s.Router.Name, i)
		}
	}
}

func cmpPort(p, def uint16) uint16 {
	if p == 0 {
		return def
	}
	return p
}

// routerSite returns the site whose router is named name.
func (t *Topology) routerSite(name string) (Site, bool) {
	for _, s := range t.Sites {
		if s.Router.Name == name {
			return s, true
		}
	}
	return Site{}, false
}

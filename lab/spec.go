package lab

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
)

// Spec is what the lab builds: an underlay network, and sites that each have
// a network, a router joined to the underlay and the site, and hosts.
type Spec struct {
	// Name names the lab; it labels every container and network
	// (io.planetstage.lab=<Name>) and prefixes their names.
	Name     string
	Underlay netip.Prefix
	Sites    []Site
}

// Site is one isolated segment (the thesis's VLANs 10, 20, 30).
type Site struct {
	Name   string
	Prefix netip.Prefix
	Router Router
	Hosts  []Host
}

// Router joins its site to the underlay. WAN is on the underlay, LAN on the
// site; hosts of the site use LAN as their default route.
type Router struct {
	Name     string
	WAN, LAN netip.Addr
}

// Host is a machine on one site.
type Host struct {
	Name    string
	Address netip.Addr
	// Kubernetes is the host's Kubernetes role, "control-plane" or
	// "worker" (empty for none): with Options.NodeImage its container runs
	// that image, ready for kubeadm.
	Kubernetes string
}

// Machine is a container of the lab as the matrix and Dial see it.
type Machine struct {
	Name string
	Site string
	// Router is true for a site's router.
	Router bool
	// Address is the address others reach the machine at: a host's address,
	// a router's LAN address.
	Address netip.Addr
	// Addresses are all of the machine's addresses (a router's WAN too).
	Addresses []netip.Addr
	// Kubernetes is the machine's Kubernetes role (see Host.Kubernetes).
	Kubernetes string
}

var namePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$`)

// Validate checks the whole spec and returns every problem, each naming the
// field, site or machine.
func (s Spec) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !namePattern.MatchString(s.Name) {
		bad("lab name %q: want lowercase letters, digits and '-', at most 32", s.Name)
	}
	if !s.Underlay.IsValid() || !s.Underlay.Addr().Is4() {
		bad("underlay prefix %q: want an IPv4 prefix", s.Underlay)
	}
	if len(s.Sites) == 0 {
		bad("sites: none; a lab needs at least one site")
	}
	names := map[string]bool{}
	addrs := map[netip.Addr]string{}
	useName := func(what, name string) {
		if !namePattern.MatchString(name) {
			bad("%s %q: want lowercase letters, digits and '-', at most 32", what, name)
		}
		if names[name] {
			bad("%s %q: name used twice", what, name)
		}
		names[name] = true
	}
	useAddr := func(machine string, a netip.Addr, in netip.Prefix, field string) {
		switch {
		case !a.IsValid():
			bad("%s: %s: missing", machine, field)
		case in.IsValid() && !in.Contains(a):
			bad("%s: %s %s is outside %s", machine, field, a, in)
		case a == in.Masked().Addr() || a == lastAddr(in):
			bad("%s: %s %s is the network or broadcast address of %s", machine, field, a, in)
		case addrs[a] != "":
			bad("%s: %s %s is already used by %s", machine, field, a, addrs[a])
		default:
			addrs[a] = machine
		}
	}
	var prefixes []netip.Prefix
	if s.Underlay.IsValid() {
		prefixes = append(prefixes, s.Underlay.Masked())
	}
	siteNames := map[string]bool{}
	for i, site := range s.Sites {
		where := fmt.Sprintf("sites[%d] %q", i, site.Name)
		if !namePattern.MatchString(site.Name) || siteNames[site.Name] {
			bad("%s: name must be unique lowercase letters, digits and '-'", where)
		}
		siteNames[site.Name] = true
		if !site.Prefix.IsValid() || !site.Prefix.Addr().Is4() {
			bad("%s: prefix %q: want an IPv4 prefix", where, site.Prefix)
		} else {
			for _, p := range prefixes {
				if p.Overlaps(site.Prefix) {
					bad("%s: prefix %s overlaps %s", where, site.Prefix, p)
				}
			}
			prefixes = append(prefixes, site.Prefix.Masked())
		}
		useName("router", site.Router.Name)
		useAddr("router "+site.Router.Name, site.Router.WAN, s.Underlay, "wan")
		useAddr("router "+site.Router.Name, site.Router.LAN, site.Prefix, "lan")
		for _, h := range site.Hosts {
			useName("host", h.Name)
			useAddr("host "+h.Name, h.Address, site.Prefix, "address")
		}
	}
	return errors.Join(errs...)
}

// Machines lists the spec's machines, site by site, router first.
func (s Spec) Machines() []Machine {
	var out []Machine
	for _, site := range s.Sites {
		r := site.Router
		out = append(out, Machine{Name: r.Name, Site: site.Name, Router: true, Address: r.LAN, Addresses: []netip.Addr{r.WAN, r.LAN}})
		for _, h := range site.Hosts {
			out = append(out, Machine{Name: h.Name, Site: site.Name, Address: h.Address, Addresses: []netip.Addr{h.Address}, Kubernetes: h.Kubernetes})
		}
	}
	return out
}

// gateway picks the address Docker gives the host's bridge on a network: the
// last usable address of prefix that no machine uses.
func gateway(prefix netip.Prefix, used map[netip.Addr]bool) (netip.Addr, error) {
	first := prefix.Masked().Addr()
	for a := lastAddr(prefix).Prev(); a.IsValid() && a.Compare(first) > 0; a = a.Prev() {
		if !used[a] {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("prefix %s: no free address left for the host's bridge", prefix)
}

// lastAddr is the broadcast address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	if !p.IsValid() {
		return netip.Addr{}
	}
	a := p.Masked().Addr().As4()
	bits := p.Bits()
	for i := 0; i < 4; i++ {
		for b := 0; b < 8; b++ {
			if i*8+b >= bits {
				a[i] |= 0x80 >> b
			}
		}
	}
	return netip.AddrFrom4(a)
}

package topology

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
)

// RoleRouter is the role Machine reports for routers.
const RoleRouter = "router"

// Machine is a router or a host of the testbed, with the site it is in: the
// unit the layers provision, configure and reach.
type Machine struct {
	Name string
	// Role is RoleRouter or the host's role.
	Role string
	// Site is the machine's site (a copy).
	Site Site
	// Address is the machine's address in its site (a router's LAN).
	Address netip.Addr
	// WAN is a router's underlay address; invalid for hosts.
	WAN netip.Addr
	// VM is the sizing asked for, nil for the defaults.
	VM *VM
}

// IsRouter reports whether m is a site's router.
func (m Machine) IsRouter() bool { return m.Role == RoleRouter }

// Machines returns every router and host, site by site, router first.
func (t *Topology) Machines() []Machine {
	var out []Machine
	for _, s := range t.Sites {
		out = append(out, Machine{Name: s.Router.Name, Role: RoleRouter, Site: s,
			Address: s.Router.LAN, WAN: s.Router.WAN, VM: s.Router.VM})
		for _, h := range s.Hosts {
			out = append(out, Machine{Name: h.Name, Role: h.Role, Site: s, Address: h.Address, VM: h.VM})
		}
	}
	return out
}

// Machine returns the router or host called name.
func (t *Topology) Machine(name string) (Machine, bool) {
	if t.index != nil {
		m, ok := t.index[name]
		return m, ok
	}
	for _, s := range t.Sites {
		if s.Router.Name == name {
			return Machine{Name: name, Role: RoleRouter, Site: s, Address: s.Router.LAN, WAN: s.Router.WAN, VM: s.Router.VM}, true
		}
		for _, h := range s.Hosts {
			if h.Name == name {
				return Machine{Name: name, Role: h.Role, Site: s, Address: h.Address, VM: h.VM}, true
			}
		}
	}
	return Machine{}, false
}

// indexed returns t with a name index for Machine, which layers call once
// per machine: without it building a plan is quadratic in the machines.
// Only for a private copy that nothing changes afterwards, as Plan's is.
func (t *Topology) indexed() *Topology {
	t.index = make(map[string]Machine)
	for _, m := range t.Machines() {
		t.index[m.Name] = m
	}
	return t
}

// HostsWithRole returns the hosts with role, in file order.
func (t *Topology) HostsWithRole(role string) []Machine {
	return slices.DeleteFunc(t.Machines(), func(m Machine) bool { return m.Role != role })
}

// Site returns the site called name.
func (t *Topology) Site(name string) (Site, bool) {
	for _, s := range t.Sites {
		if s.Name == name {
			return s, true
		}
	}
	return Site{}, false
}

// Hypervisor returns the hypervisor called name.
func (t *Topology) Hypervisor(name string) (Hypervisor, bool) {
	for _, h := range t.Hypervisors {
		if h.Name == name {
			return h, true
		}
	}
	return Hypervisor{}, false
}

// Default values for fields a topology may leave out.
const (
	DefaultVPNPort = 1194
	DefaultAPIPort = 6443
	DefaultSSHPort = 22
	DefaultSSHUser = "root"
	// DefaultKnownHosts is where host keys are checked unless the file
	// says otherwise or turns checking off: the user's own, as OpenSSH.
	DefaultKnownHosts = "~/.ssh/known_hosts"
	DefaultKubernetes = "v1.37.2"
)

// SetDefaults fills in the fields a topology may leave out. Load calls it;
// a topology built in Go gets it from Plan and Validate, which work on a
// defaulted copy.
func (t *Topology) SetDefaults() {
	if t.APIVersion == "" {
		t.APIVersion = APIVersion
	}
	if t.Kind == "" {
		t.Kind = Kind
	}
	for i := range t.Hypervisors {
		if t.Hypervisors[i].Kind == "" {
			t.Hypervisors[i].Kind = HypervisorESXi
		}
	}
	if t.VPN != nil {
		if t.VPN.Type == "" {
			t.VPN.Type = VPNTypeOpenVPN
		}
		// WireGuard's peers authenticate with their keys: it has no auth.
		if t.VPN.Auth == "" && t.VPN.Type != VPNTypeWireGuard {
			t.VPN.Auth = VPNAuthTLS
		}
		if t.VPN.Port == 0 {
			t.VPN.Port = DefaultVPNPort
			if t.VPN.Type == VPNTypeWireGuard {
				t.VPN.Port = DefaultWireGuardPort
			}
		}
	}
	if t.Cluster != nil {
		if t.Cluster.APIPort == 0 {
			t.Cluster.APIPort = DefaultAPIPort
		}
		if t.Cluster.Kubernetes == "" {
			t.Cluster.Kubernetes = DefaultKubernetes
		}
	}
	if t.SSH == nil {
		t.SSH = &SSH{}
	}
	if t.SSH.User == "" {
		t.SSH.User = DefaultSSHUser
	}
	if t.SSH.Port == 0 {
		t.SSH.Port = DefaultSSHPort
	}
	if t.SSH.KnownHosts == "" && !t.SSH.InsecureIgnoreHostKey {
		t.SSH.KnownHosts = DefaultKnownHosts
	}
}

// Clone returns a deep copy of t.
func (t *Topology) Clone() *Topology {
	c := *t
	c.index = nil
	c.Hypervisors = slices.Clone(t.Hypervisors)
	c.Sites = slices.Clone(t.Sites)
	for i := range c.Sites {
		c.Sites[i].Hosts = slices.Clone(c.Sites[i].Hosts)
		for j := range c.Sites[i].Hosts {
			c.Sites[i].Hosts[j].VM = clonePtr(c.Sites[i].Hosts[j].VM)
		}
		c.Sites[i].Router.VM = clonePtr(c.Sites[i].Router.VM)
		c.Sites[i].Location = clonePtr(c.Sites[i].Location)
	}
	if t.Latency != nil {
		l := *t.Latency
		l.Links = slices.Clone(l.Links)
		c.Latency = &l
	}
	c.VPN = clonePtr(t.VPN)
	if c.VPN != nil && c.VPN.WireGuard != nil {
		wg := *c.VPN.WireGuard
		wg.Endpoints = maps.Clone(wg.Endpoints)
		c.VPN.WireGuard = &wg
	}
	c.Cluster = clonePtr(t.Cluster)
	c.SSH = clonePtr(t.SSH)
	if t.Defaults != nil {
		d := Defaults{VMs: maps.Clone(t.Defaults.VMs)}
		c.Defaults = &d
	}
	return &c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// WithHost returns a copy of t with h added to site: the topology of a
// testbed that grows by a machine. The copy is not validated.
func (t *Topology) WithHost(site string, h Host) (*Topology, error) {
	c := t.Clone()
	for i := range c.Sites {
		if c.Sites[i].Name == site {
			c.Sites[i].Hosts = append(c.Sites[i].Hosts, h)
			return c, nil
		}
	}
	return nil, fmt.Errorf("topology %s has no site %q", t.Name, site)
}

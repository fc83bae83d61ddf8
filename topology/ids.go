package topology

// Step IDs that one layer's steps depend on and another layer's create.
// They are the whole of the coupling between layers in the plan: a layer
// refers to another only through these.

import "cmp"

// MachineUpIDs returns the IDs of the steps after which machine exists,
// runs and answers: the machines layer's step for it. Every step that acts
// on a machine depends on these.
func MachineUpIDs(t *Topology, machine string) []string {
	if _, ok := t.Machine(machine); !ok {
		return nil
	}
	return []string{MachineUpID(machine)}
}

// MachineUpID is the machines layer's step after which machine exists and
// runs: its VM powered on by its hypervisor's provider, or, where the
// machine already exists, its SSH answering.
func MachineUpID(machine string) string { return "machines/up/" + machine }

// RouterID is the routers layer's step after which router forwards traffic
// to every other site through its tunnels.
func RouterID(router string) string { return "routers/" + router }

// NetworkIDs returns the routers' steps and the tunnels' probes: after them
// every site reaches every other. Steps that need cross-site reachability
// depend on them.
func NetworkIDs(t *Topology) []string {
	if t.VPN == nil {
		return nil
	}
	ids := make([]string, 0, len(t.Sites))
	for _, s := range t.Sites {
		ids = append(ids, RouterID(s.Router.Name))
	}
	for _, p := range t.TunnelPairs() {
		ids = append(ids, TunnelID(p[0], p[1]))
	}
	return ids
}

// PathIDs returns the router steps that traffic between machines a and b
// crosses: the routers of every site on its path (both sites', the hub's
// in hub-spoke, the spokes' hubs in regional mode) and the tunnels between
// them; none when they share a site or the topology has no VPN. A step
// that needs one machine to reach another depends on these, not on every
// router: in a testbed of a thousand sites that is the difference between
// a few edges per step and a thousand.
func PathIDs(t *Topology, a, b string) []string {
	ma, okA := t.Machine(a)
	mb, okB := t.Machine(b)
	if t.VPN == nil || !okA || !okB || ma.Site.Name == mb.Site.Name {
		return nil
	}
	path := t.SitePath(ma.Site.Name, mb.Site.Name)
	var ids []string
	for _, name := range path {
		if s, ok := t.Site(name); ok {
			ids = append(ids, RouterID(s.Router.Name))
		}
	}
	for i := 1; i < len(path); i++ {
		ids = append(ids, TunnelID(path[i-1], path[i]))
	}
	return ids
}

// SitePath returns the sites traffic from site a to site b crosses, both
// included: [a, b] in a mesh or where a tunnel joins them, through the hub
// in hub-spoke, through the spokes' hubs in regional mode (as package
// tunnel's Model.Path). Nil when a and b are the same site or there is no
// VPN.
func (t *Topology) SitePath(a, b string) []string {
	if t.VPN == nil || a == b {
		return nil
	}
	hubOf := func(s string) string { return s }
	switch t.VPN.Mode {
	case VPNHubSpoke:
		if _, ok := t.Site(t.VPN.Hub); ok {
			hubOf = func(string) string { return t.VPN.Hub }
		}
	case VPNRegional:
		if hubs, err := t.Hubs(); err == nil {
			hubOf = func(s string) string { return cmp.Or(hubs[s], s) }
		}
	}
	path := []string{a}
	for _, s := range []string{hubOf(a), hubOf(b), b} {
		if s != path[len(path)-1] {
			path = append(path, s)
		}
	}
	return path
}

// TunnelID is the routers layer's step after which the tunnel between
// sites a and b carries traffic: a probe through it from one router to the
// other answered. The order of a and b does not matter.
func TunnelID(a, b string) string {
	return "routers/tunnel/" + min(a, b) + "/" + max(a, b)
}

// LoadBalancerID is the lb layer's step that configures the control-plane
// load balancer on host.
func LoadBalancerID(host string) string { return "lb/haproxy/" + host }

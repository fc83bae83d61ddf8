package topology

// Step IDs that one layer's steps depend on and another layer's create.
// They are the whole of the coupling between layers in the plan: a layer
// refers to another only through these.

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
// crosses: both sites' routers, and the hub's in hub-spoke; none when they
// share a site or the topology has no VPN. A step that needs one machine to
// reach another depends on these, not on every router: in a testbed of a
// thousand sites that is the difference between a few edges per step and
// a thousand.
func PathIDs(t *Topology, a, b string) []string {
	ma, okA := t.Machine(a)
	mb, okB := t.Machine(b)
	if t.VPN == nil || !okA || !okB || ma.Site.Name == mb.Site.Name {
		return nil
	}
	ids := []string{RouterID(ma.Site.Router.Name), RouterID(mb.Site.Router.Name)}
	if t.VPN.Mode != VPNHubSpoke {
		return append(ids, TunnelID(ma.Site.Name, mb.Site.Name))
	}
	hub, ok := t.Site(t.VPN.Hub)
	if !ok {
		return ids
	}
	if hub.Name != ma.Site.Name && hub.Name != mb.Site.Name {
		ids = append(ids, RouterID(hub.Router.Name))
	}
	for _, s := range []string{ma.Site.Name, mb.Site.Name} {
		if s != hub.Name {
			ids = append(ids, TunnelID(hub.Name, s))
		}
	}
	return ids
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

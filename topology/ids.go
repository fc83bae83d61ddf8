package topology

// Step IDs that one layer's steps depend on and another layer's create.
// They are the whole of the coupling between layers in the plan: a layer
// refers to another only through these.

// HostUpIDs returns the IDs of the steps after which machine exists and is
// running: the power-on step of its VM when its site has a hypervisor, none
// when the machine already exists.
func HostUpIDs(t *Topology, machine string) []string {
	m, ok := t.Machine(machine)
	if !ok || m.Site.Hypervisor == "" {
		return nil
	}
	return []string{PowerOnID(machine)}
}

// PowerOnID is the esxi layer's step that powers machine's VM on.
func PowerOnID(machine string) string { return "esxi/power/" + machine }

// RouterID is the routers layer's step after which router forwards traffic
// to every other site through its tunnels.
func RouterID(router string) string { return "routers/" + router }

// NetworkIDs returns the routers' steps: after them every site reaches every
// other. Steps that need cross-site reachability depend on them.
func NetworkIDs(t *Topology) []string {
	if t.VPN == nil {
		return nil
	}
	ids := make([]string, 0, len(t.Sites))
	for _, s := range t.Sites {
		ids = append(ids, RouterID(s.Router.Name))
	}
	return ids
}

// LoadBalancerID is the lb layer's step that configures the control-plane
// load balancer on host.
func LoadBalancerID(host string) string { return "lb/haproxy/" + host }

package layer

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/planetstage/planetstage/kubeadm"
	"github.com/planetstage/planetstage/topology"
)

// CheckNodes compares the nodes a cluster reports (kubeadm's Nodes) with
// t: every control plane and worker is a node, Ready, with its internal IP
// in its site's prefix (so traffic between nodes crosses the tunnels, not
// some other network), and nothing else is a node. It returns the
// problems, sorted; none means the cluster is the topology's.
func CheckNodes(t *topology.Topology, nodes []kubeadm.NodeStatus) []string {
	want := map[string]netip.Prefix{}
	for _, m := range t.Machines() {
		if m.Role == topology.RoleControlPlane || m.Role == topology.RoleWorker {
			want[m.Name] = m.Site.Prefix
		}
	}
	var problems []string
	for _, n := range nodes {
		p, ok := want[n.Name]
		ip, err := netip.ParseAddr(n.InternalIP)
		switch {
		case !ok:
			problems = append(problems, "unexpected node "+n.Name)
		case !n.Ready:
			problems = append(problems, "node "+n.Name+" not Ready")
		case err != nil || !p.Contains(ip):
			problems = append(problems, fmt.Sprintf("node %s has internal IP %q, not in its site %s", n.Name, n.InternalIP, p))
		}
		delete(want, n.Name)
	}
	for name := range want {
		problems = append(problems, "node "+name+" missing")
	}
	slices.Sort(problems)
	return problems
}

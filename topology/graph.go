package topology

import (
	"fmt"
	"strings"
)

// TunnelPairs returns the pairs of sites the VPN joins with a tunnel, by
// name, in a stable order: every pair for a mesh, hub and spoke for
// hub-spoke.
func (t *Topology) TunnelPairs() [][2]string {
	if t.VPN == nil {
		return nil
	}
	var pairs [][2]string
	if t.VPN.Mode == VPNHubSpoke {
		for _, s := range t.Sites {
			if s.Name != t.VPN.Hub {
				pairs = append(pairs, [2]string{t.VPN.Hub, s.Name})
			}
		}
		return pairs
	}
	for i := range t.Sites {
		for j := i + 1; j < len(t.Sites); j++ {
			pairs = append(pairs, [2]string{t.Sites[i].Name, t.Sites[j].Name})
		}
	}
	return pairs
}

// DOT draws the topology as a Graphviz graph: a cluster per site with its
// router and hosts, routers on the underlay, a dashed edge per tunnel.
func DOT(t *Topology) string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph %q {\n\tcompound = true;\n\tnode [shape = box];\n", t.Name)
	fmt.Fprintf(&b, "\tunderlay [shape = ellipse, label = %q];\n", fmt.Sprintf("underlay %s (VLAN %d)", t.Underlay.Prefix, t.Underlay.VLAN))
	for i, s := range t.Sites {
		fmt.Fprintf(&b, "\tsubgraph cluster_%d {\n\t\tlabel = %q;\n", i, fmt.Sprintf("%s %s (VLAN %d)", s.Name, s.Prefix, s.VLAN))
		fmt.Fprintf(&b, "\t\t%q [shape = diamond, label = %q];\n", s.Router.Name, fmt.Sprintf("%s\n%s / %s", s.Router.Name, s.Router.WAN, s.Router.LAN))
		for _, h := range s.Hosts {
			fmt.Fprintf(&b, "\t\t%q [label = %q];\n", h.Name, fmt.Sprintf("%s\n%s\n%s", h.Name, h.Address, h.Role))
			fmt.Fprintf(&b, "\t\t%q -- %q;\n", s.Router.Name, h.Name)
		}
		b.WriteString("\t}\n")
		fmt.Fprintf(&b, "\tunderlay -- %q;\n", s.Router.Name)
	}
	for _, p := range t.TunnelPairs() {
		a, _ := t.Site(p[0])
		c, _ := t.Site(p[1])
		fmt.Fprintf(&b, "\t%q -- %q [style = dashed, label = \"openvpn\"];\n", a.Router.Name, c.Router.Name)
	}
	b.WriteString("}\n")
	return b.String()
}

// Mermaid draws the same graph as a Mermaid flowchart.
func Mermaid(t *Topology) string {
	var b strings.Builder
	b.WriteString("flowchart TB\n")
	fmt.Fprintf(&b, "\tunderlay((\"underlay %s\"))\n", t.Underlay.Prefix)
	for _, s := range t.Sites {
		fmt.Fprintf(&b, "\tsubgraph %s[\"%s %s (VLAN %d)\"]\n", s.Name, s.Name, s.Prefix, s.VLAN)
		fmt.Fprintf(&b, "\t\t%s{\"%s %s\"}\n", s.Router.Name, s.Router.Name, s.Router.LAN)
		for _, h := range s.Hosts {
			fmt.Fprintf(&b, "\t\t%s[\"%s %s %s\"]\n", h.Name, h.Name, h.Address, h.Role)
			fmt.Fprintf(&b, "\t\t%s --- %s\n", s.Router.Name, h.Name)
		}
		b.WriteString("\tend\n")
		fmt.Fprintf(&b, "\tunderlay --- %s\n", s.Router.Name)
	}
	for _, p := range t.TunnelPairs() {
		a, _ := t.Site(p[0])
		c, _ := t.Site(p[1])
		fmt.Fprintf(&b, "\t%s -. openvpn .- %s\n", a.Router.Name, c.Router.Name)
	}
	return b.String()
}

package topology

import (
	"fmt"
	"slices"
	"strings"
)

// TunnelPairs returns the pairs of sites the VPN joins with a tunnel, by
// name, in a stable order: every pair for a mesh, hub and spoke for
// hub-spoke, hubs with each other and with their spokes for regional.
func (t *Topology) TunnelPairs() [][2]string {
	if t.VPN == nil {
		return nil
	}
	var pairs [][2]string
	switch t.VPN.Mode {
	case VPNHubSpoke:
		for _, s := range t.Sites {
			if s.Name != t.VPN.Hub {
				pairs = append(pairs, [2]string{t.VPN.Hub, s.Name})
			}
		}
		return pairs
	case VPNRegional:
		// As package tunnel orders them: the hubs' mesh in site order, then
		// each spoke with its hub. A topology whose hubs do not resolve
		// (Validate says why) has only the hubs' tunnels.
		hubOf, _ := t.Hubs()
		var hubs []string
		for _, s := range t.Sites {
			if slices.Contains(t.VPN.Hubs, s.Name) {
				hubs = append(hubs, s.Name)
			}
		}
		for i, a := range hubs {
			for _, b := range hubs[i+1:] {
				pairs = append(pairs, [2]string{a, b})
			}
		}
		for _, s := range t.Sites {
			if hub := hubOf[s.Name]; hub != "" && hub != s.Name {
				pairs = append(pairs, [2]string{hub, s.Name})
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
		fmt.Fprintf(&b, "\t%q -- %q [style = dashed, label = %q];\n", a.Router.Name, c.Router.Name, t.vpnType())
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
		fmt.Fprintf(&b, "\t%s -. %s .- %s\n", a.Router.Name, t.vpnType(), c.Router.Name)
	}
	return b.String()
}

// vpnType is the tunnel kind's name for drawings.
func (t *Topology) vpnType() string {
	if t.VPN == nil || t.VPN.Type == "" {
		return VPNTypeOpenVPN
	}
	return t.VPN.Type
}

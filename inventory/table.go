package inventory

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the inventory for a person: a line that says where the
// states come from, then the machines, the tunnels, the relay and the
// notes.
func (inv Inventory) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	inLab := inv.Source == FromLab
	switch inv.Source {
	case FromLab:
		fmt.Fprintf(tw, "topology %s, in its lab: containers from Docker, VMs from the simulated hypervisors\n\n", inv.Topology)
	default:
		fmt.Fprintf(tw, "topology %s: the model only, from the topology file; no machine was contacted\n\n", inv.Topology)
	}
	header := "MACHINE\tROLE\tSITE\tADDRESS\tWAN\tHYPERVISOR"
	if inLab {
		header += "\tCONTAINER\tVM"
	}
	fmt.Fprintln(tw, header)
	for _, m := range inv.Machines {
		role := m.Role
		if m.Router != "" {
			role += " (" + m.Router + ")"
		}
		row := []string{m.Name, role, m.Site, m.Address.String(), dash(m.WAN.IsValid(), m.WAN.String()), dash(m.Hypervisor != "", m.Hypervisor)}
		if inLab {
			row = append(row, string(m.Container), dash(m.VM != "", string(m.VM)))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	fmt.Fprintln(tw)
	if len(inv.Tunnels) == 0 {
		fmt.Fprintln(tw, "no tunnels: the topology has no vpn")
	} else {
		withRTT := slices.ContainsFunc(inv.Tunnels, func(t Tunnel) bool { return t.RTTMs > 0 })
		header := "TUNNEL\tPORT\tTRANSIT\tEND A (router, wan, transit)\tEND B"
		if withRTT {
			header += "\tRTT"
		}
		fmt.Fprintln(tw, header)
		for _, t := range inv.Tunnels {
			row := []string{t.Name, fmt.Sprint(t.Port), t.Transit.String(), end(t.Ends[0]), end(t.Ends[1])}
			if withRTT {
				row = append(row, fmt.Sprintf("%g ms", t.RTTMs))
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
	}
	if r := inv.Relay; r != nil {
		state := "running"
		if !r.Running {
			state = "NOT running (stage apply --lab starts it again)"
		}
		fmt.Fprintf(tw, "\nWAN relay on %s, UDP %d-%d: %s\n", r.Bind, r.FirstPort, r.LastPort, state)
		fmt.Fprintln(tw, "PATH\tFACES END A\tFACES END B\tRTT")
		for _, p := range r.Paths {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%g ms\n", p.Name, p.ListenA, p.ListenB, p.RTTMs)
		}
	}
	if len(inv.Notes) > 0 {
		fmt.Fprintln(tw)
		for _, n := range inv.Notes {
			fmt.Fprintf(tw, " • %s\n", n)
		}
	}
	return tw.Flush()
}

func end(e TunnelEnd) string { return fmt.Sprintf("%s %s %s", e.Router, e.WAN, e.Address) }

// dash is s, or "-" when there is nothing to show.
func dash(ok bool, s string) string {
	if !ok {
		return "-"
	}
	return s
}

// Package layer turns a topology (package topology) into a plan (package
// plan): each layer contributes the steps that build one part of a testbed,
// and they depend on each other only through the step IDs of package
// topology.
//
//	machines  every machine exists and runs: port groups and VMs on the
//	          sites' hypervisors through a Provider (ESXi is built in),
//	          or a reachability check where the machines already exist
//	routers   the site-to-site tunnels and routes, on VyOS or Linux routers,
//	          carried by the tunnel kind of vpn.type (OpenVPN and
//	          WireGuard are built in)
//	wan       the emulated latency between sites (netem) on the routers
//	lb        HAProxy in front of the control planes
//	cluster   the kubeadm HA bootstrap across the sites
//
// Default returns these as a Set; Plan, DestroyPlan and Render build from
// it. A program extends a testbed with a layer of its own by adding it to a
// Set (Set.Add): its steps are planned, walked and rendered like the
// built-in ones, and can depend on theirs (topology.RouterID,
// topology.MachineUpID, ...).
//
// Two layers take kinds that a program adds or replaces by name: the
// machines layer a Provider per hypervisor kind (Env.Providers), the
// routers layer a TunnelKind per vpn.type (Env.TunnelKinds). The tunnels
// are one model (package tunnel) whatever the kind: the kind gives each
// router a TunnelDriver (inspect, apply, remove, render) and names the
// tunnels' interfaces, and the wan layer, the relay plan and MeasureWAN
// need nothing else from it. A router carries one kind at a time: when
// vpn.type changes, the routers layer removes what the other kinds left
// on Linux routers (TunnelSweeper) before the new kind applies, and a
// VyOS router's configuration replaces the other kind's in one commit.
// Each router's configuration is built when the plan is, so a router
// that cannot carry the topology (a VyOS version without what it asks
// for) fails the plan before any step runs.
//
// Every layer acts on machines through Env.Dial, a remote.Runner per
// machine: SSHPool reaches real machines (routers at their WAN address,
// hosts through their router), and the lab (package lab) hands out its
// own, so the same steps configure containers and hardware.
package layer

// Package layer turns a topology (package topology) into a plan (package
// plan): each layer contributes the steps that build one part of a testbed,
// and they depend on each other only through the step IDs of package
// topology.
//
//	machines  every machine exists and runs: port groups and VMs on the
//	          sites' hypervisors through a Provider (ESXi is built in),
//	          or a reachability check where the machines already exist
//	routers   the site-to-site tunnels and routes, on VyOS or Linux routers
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
// Every layer acts on machines through Env.Dial, a remote.Runner per
// machine: SSHPool reaches real machines (routers at their WAN address,
// hosts through their router), and the lab (package lab) hands out its
// own, so the same steps configure containers and hardware.
package layer

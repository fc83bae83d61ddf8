// Package inventory lists what a testbed is made of, as a table or as JSON:
// every machine with its role, site, addresses and hypervisor, every
// site-to-site tunnel with its routers and transit addresses, and in a
// lab its containers, VMs and WAN relay.
//
// Of builds the inventory from a topology alone, contacting no machine: the
// model, what `stage inspect` prints without --lab. Package lab fills in
// what runs (lab.(*Lab).Inspect): each container's state from Docker, each
// VM's power state from the simulated hypervisor, the tunnels pointed at
// the WAN relay and whether the relay runs. WriteTable prints either; the
// types marshal to JSON with camelCase keys.
package inventory

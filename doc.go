// Package planetstage builds staging environments for planetary-scale
// distributed systems: machines at several sites — separate networks, real
// distance between them — that behave as one testbed controlled from one
// place.
//
// # Architecture
//
// Dependencies point one way:
//
//	examples → {testbed, experiment} → lab → layer → {esxi, openvpn, wireguard, vyos, haproxy, kubeadm, wan} → {topology, tunnel, plan, remote}
//
//	topology  the model: a testbed in Go or YAML (sites on VLANs, a router
//	          per site, hosts with roles, tunnels, a cluster), strict
//	          decoding, validation, defaults, the state directory, and the
//	          step IDs through which layers refer to each other. It links
//	          neither govmomi nor the Kubernetes tree.
//	tunnel    the site-to-site tunnels whatever their kind: mesh or
//	          hub-spoke, transit addresses, ports, endpoints, routes;
//	          openvpn and wireguard are the kinds on it (vyos renders
//	          both as set commands).
//	plan      the engine: a graph of steps (inspect, apply) walked in
//	          dependency order, in parallel; knows nothing of testbeds.
//	layer     turns a topology into a plan. Its layers, in build order:
//	            machines  every machine exists and runs (a Provider per
//	                      hypervisor kind; ESXi is built in)
//	            routers   site-to-site tunnels and routes on VyOS or Linux
//	            wan       the latency between sites (netem)
//	            lb        HAProxy in front of the control planes
//	            cluster   kubeadm HA bootstrap across the sites
//	lab       a local stand-in for the hardware (Docker containers over real
//	          SSH, govmomi's ESXi simulator, a user-space WAN relay) and the
//	          workflow on it: Up, Apply, Matrix, MeasureWAN,
//	          CompareTunnelKinds, AddHost, Stop, Start, Down;
//	          lab/labtest gives a Go test a running,
//	          applied lab in one call. Routers of kind vyos run in the VyOS
//	          stand-in (vyos/vyosstandin, not VyOS: a vbash that runs
//	          package vyos's configure session and realises it with
//	          openvpn and ip; lab → vyosstandin → vyos) or in a real VyOS
//	          image the user built.
//	testbed   a topology's machines as one thing to act on, the lab or
//	          the hardware: Plan, Apply, Destroy, Matrix, MeasureWAN,
//	          Bootstrapper, Inventory, SSHCommand, StopMachine,
//	          StartMachine and the thesis's AddNode and LoseControlPlane,
//	          the same calls and checks either way. A program with a --lab
//	          flag opens one.
//	reach     the reachability matrix, every machine pinging every other
//	          from inside, through any remote.Runner: the lab's containers
//	          or SSH on hardware.
//	experiment a run on a running testbed: events on a schedule or on
//	          demand (partition and heal a site, a tunnel's latency changed
//	          live, machines stopped and started), probes on an interval,
//	          and a results folder with report.html; the lab is its first
//	          Testbed.
//	preflight what some work needs from this machine (programs, C
//	          libraries, root, a Docker engine), checked before the work,
//	          missing Debian packages installed as root.
//	inventory what a testbed is made of (machines, tunnels, and in a lab
//	          containers, VMs and the relay) as a table or JSON; between
//	          lab, which fills in what runs, and layer.
//	kubeconfig a cluster's admin kubeconfig merged into a user's file;
//	          under kubeadm, which fetches it from a control plane.
//	remote    the one transport: SSH and this machine.
//
// # Extending it
//
//   - A new layer: write a layer.Layer (steps that depend on other layers
//     through topology's IDs, such as topology.MachineUpID and
//     topology.RouterID) and add it to a layer.Set (Set.Add); lab.Apply
//     and layer.Plan take the Set. See layer's ExampleSet_Add.
//   - A new machine provider (another hypervisor, a cloud): implement
//     layer.Provider, give the hypervisors a kind in the topology file
//     (hypervisors[].kind), and register it in layer.Env.Providers. Sites
//     without a hypervisor are machines that already exist, reached over
//     SSH.
//   - A new tunnel kind: implement layer.TunnelKind (its Linux and VyOS
//     drivers render from the kind-neutral tunnel.Model), name it in the
//     topology file (vpn.type), and register it in layer.Env.TunnelKinds.
//     OpenVPN (layer.OpenVPN, the default) and WireGuard
//     (layer.WireGuard, vpn.type wireguard) are built in. A kind that
//     implements layer.TunnelSweeper has its Linux leftovers removed when
//     a topology switches to another kind.
//
// # Use
//
// A program embeds it in a few lines:
//
//	t, err := topology.Load("thesis.yaml") // every problem, with its line
//	if err != nil {
//		return err
//	}
//	st, _ := topology.OpenState(dir)
//	env := layer.NewEnv(t, st, nil) // SSH with checked host keys, ESXi from GOVC_*
//	defer env.Close(ctx)
//	g, err := layer.Plan(t, env, layer.Machines, layer.Routers)
//	if err != nil {
//		return err
//	}
//	res, err := plan.Walk(ctx, g, plan.Options{Apply: true})
//	fmt.Println(res) // apply: 14 created, 0 updated, 0 unchanged, 0 failed, 0 skipped in 9.1s
//
// and, the same calls for the lab or the hardware (package testbed):
//
//	tb, err := testbed.Open(ctx, t, testbed.Options{Lab: inLab})
//	defer tb.Close(ctx)
//	res, err := tb.Apply(ctx, testbed.ApplyOptions{}) // the lab: up first, returns once the tunnels carry every pair
//	m, err := tb.Matrix(ctx)                          // ping from inside every machine to every other
//
// The stage command (package stagecli, built as examples/stage) is a thin
// CLI over the same calls that a harness can rebuild with layers of its
// own, and examples/thesis reproduces the testbed of the thesis this project
// started from.
package planetstage

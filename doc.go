// Package planetstage builds staging environments for planetary-scale
// distributed systems: machines at several sites — separate networks, real
// distance between them — that behave as one testbed controlled from one
// place.
//
// A testbed is a topology (package topology), in Go or YAML: sites on VLANs,
// a router per site, hosts with roles, tunnels between the routers, and
// optionally a Kubernetes cluster across the sites. layer.Plan turns it
// into a graph of steps (package plan) built from the layers, and plan.Walk
// inspects or applies them in dependency order, in parallel:
//
//	esxi     port groups per VLAN and a VM per machine on ESXi hosts (govmomi)
//	routers  OpenVPN site-to-site tunnels and routes, on VyOS (vyos) or
//	         Linux (openvpn) routers, from one tunnel model
//	lb       HAProxy in front of the control planes (haproxy)
//	cluster  kubeadm HA bootstrap across the sites (kubeadm)
//
// Every layer acts on machines through remote.Runner (SSH, or this machine),
// so the code that configures a container in the local lab (package lab) is
// the code that configures real hardware.
//
// A program embeds it in a few lines:
//
//	t, err := topology.Load("thesis.yaml") // every problem, with its line
//	if err != nil {
//		return err
//	}
//	st, _ := topology.OpenState(dir)
//	env := &layer.Env{State: st, Dial: layer.NewSSHPool(t, nil).Dial}
//	g, err := layer.Plan(t, env, "esxi", "routers")
//	if err != nil {
//		return err
//	}
//	res, err := plan.Walk(ctx, g, plan.Options{Apply: true})
//	fmt.Println(res) // apply: 14 created, 0 updated, 0 unchanged, 0 failed, 0 skipped in 9.1s
//
// The command examples/stage is a thin CLI over the same calls, and
// examples/thesis reproduces the testbed of the thesis this project
// started from.
package planetstage

package layer_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"

	"github.com/planetstage/planetstage/kubeadm/kubeadmtest"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// motdLayer is a layer of a program's own: a message of the day on every
// host, once the host is up. It refers to the built-in layers only
// through topology's step IDs.
func motdLayer(text string) layer.Layer {
	steps := func(t *topology.Topology, env *layer.Env) ([]plan.Node, error) {
		var nodes []plan.Node
		for _, m := range t.Machines() {
			if m.IsRouter() {
				continue
			}
			nodes = append(nodes, plan.Node{
				ID:     "motd/" + m.Name,
				Target: "message of the day on " + m.Name,
				Deps:   topology.MachineUpIDs(t, m.Name),
				Step: plan.Funcs{
					InspectFunc: func(ctx context.Context) (plan.Change, error) {
						if plan.Pending(ctx) {
							return plan.Change{Action: plan.Create, Reason: "once the machine is up"}, nil
						}
						r, err := env.Dial(ctx, m.Name)
						if err != nil {
							return plan.Change{}, err
						}
						got, err := r.ReadFile(ctx, "/etc/motd")
						switch {
						case errors.Is(err, fs.ErrNotExist):
							return plan.Change{Action: plan.Create, Reason: "no /etc/motd"}, nil
						case err != nil:
							return plan.Change{}, err
						case string(got) != text:
							return plan.Change{Action: plan.Update, Reason: "/etc/motd differs"}, nil
						}
						return plan.Change{Action: plan.NoOp, Reason: "as planned"}, nil
					},
					ApplyFunc: func(ctx context.Context, _ plan.Change) error {
						r, err := env.Dial(ctx, m.Name)
						if err != nil {
							return err
						}
						return r.WriteFile(ctx, "/etc/motd", []byte(text), 0o644)
					},
				},
			})
		}
		return nodes, nil
	}
	render := func(_ *topology.Topology, _ *layer.Env, machine string) ([]layer.Artifact, error) {
		return []layer.Artifact{{Title: "/etc/motd", Content: text}}, nil
	}
	return layer.Layer{Name: "motd", Steps: steps, Render: render}
}

// A program adds a layer of its own to the built-in ones; it is planned,
// walked and rendered like them. Here two machines that already exist
// (a site without a hypervisor) are reached through a recording fake
// (kubeadmtest.FakeHosts) instead of SSH.
func ExampleSet_Add() {
	t := &topology.Topology{
		Name:     "demo",
		Underlay: topology.Underlay{Prefix: netip.MustParsePrefix("10.4.0.0/24")},
		Sites: []topology.Site{{
			Name: "site-a", VLAN: 10, Prefix: netip.MustParsePrefix("192.168.10.0/24"),
			Router: topology.Router{Name: "gw", Kind: topology.RouterLinux,
				WAN: netip.MustParseAddr("10.4.0.90"), LAN: netip.MustParseAddr("192.168.10.1")},
			Hosts: []topology.Host{{Name: "web", Address: netip.MustParseAddr("192.168.10.10"), Role: topology.RoleGeneric}},
		}},
	}
	dir, _ := os.MkdirTemp("", "planetstage-example")
	defer os.RemoveAll(dir)
	state, _ := topology.OpenState(dir)
	hosts := kubeadmtest.NewFakeHosts(nil)
	env := &layer.Env{State: state, Dial: hosts.Dial}

	set := layer.Default()
	if err := set.Add(motdLayer("staged by planetstage\n")); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(set.Names())
	ctx := context.Background()
	for range 2 { // the second apply finds nothing to change
		g, err := set.Plan(t, env, layer.Machines, "motd")
		if err != nil {
			fmt.Println(err)
			return
		}
		res, _ := plan.Walk(ctx, g, plan.Options{Apply: true})
		for _, s := range res.Steps {
			fmt.Printf("%-18s %-7s %s\n", s.ID, s.Action, s.Reason)
		}
	}
	arts, _ := set.Render(t, env, "web", "motd")
	fmt.Printf("%s on %s: %q\n", arts[0].Title, arts[0].Machine, arts[0].Content)
	// Output:
	// [machines routers wan lb cluster motd]
	// machines/up/gw     no-op   answers over SSH
	// machines/up/web    no-op   answers over SSH
	// motd/web           create  no /etc/motd
	// machines/up/gw     no-op   answers over SSH
	// machines/up/web    no-op   answers over SSH
	// motd/web           no-op   as planned
	// /etc/motd on web: "staged by planetstage\n"
}

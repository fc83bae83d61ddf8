package stagecli_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/stagecli"
	"github.com/planetstage/planetstage/topology"
)

// A harness's own stage command: the built-in layers and one of its own (a
// message of the day on every host). Its main is one line,
// cli.Main(); here Run shows what two of its commands print.
func Example() {
	const motd = "staged by planetstage\n"
	set := layer.Default()
	err := set.Add(layer.Layer{
		Name: "motd",
		Steps: func(t *topology.Topology, env *layer.Env) ([]plan.Node, error) {
			var nodes []plan.Node
			for _, m := range t.Machines() {
				if m.IsRouter() || m.Site.Name != "site-a" {
					continue
				}
				nodes = append(nodes, plan.Node{
					ID: "motd/" + m.Name, Target: "message of the day on " + m.Name,
					Deps: topology.MachineUpIDs(t, m.Name),
					Step: plan.Funcs{
						InspectFunc: func(ctx context.Context) (plan.Change, error) {
							return plan.Change{Action: plan.Create, Reason: "a harness would read /etc/motd here"}, nil
						},
						ApplyFunc: func(ctx context.Context, _ plan.Change) error {
							r, err := env.Dial(ctx, m.Name)
							if err != nil {
								return err
							}
							return r.WriteFile(ctx, "/etc/motd", []byte(motd), 0o644)
						},
					},
				})
			}
			return nodes, nil
		},
		Render: func(*topology.Topology, *layer.Env, string) ([]layer.Artifact, error) {
			return []layer.Artifact{{Title: "/etc/motd", Content: motd}}, nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	cli := &stagecli.CLI{Name: "mystage", Layers: set}

	state, _ := os.MkdirTemp("", "stagecli-example")
	defer os.RemoveAll(state)
	ctx := context.Background()
	file := "../examples/thesis/thesis.yaml"
	cli.Run(ctx, []string{"render", "-f", file, "-state", state, "--host", "node01", "--layers", "motd"}, os.Stdout, os.Stdout)
	var planOut bytes.Buffer
	cli.Run(ctx, []string{"plan", "-f", file, "-state", state, "--offline", "--layers", "motd"}, &planOut, os.Stdout)
	for _, line := range strings.Split(planOut.String(), "\n") {
		if strings.HasPrefix(line, "+") { // leave out the summary, which says how long it took
			fmt.Println(line)
		}
	}
	code := cli.Run(ctx, []string{"plan", "-f", file, "--layers", "nosuch"}, os.Stdout, os.Stdout)
	fmt.Println("exit status", code)
	// Output:
	// # node01: /etc/motd (motd)
	// staged by planetstage
	// + create    message of the day on lb (planned offline: assumed missing)
	// + create    message of the day on master01 (planned offline: assumed missing)
	// + create    message of the day on master02 (planned offline: assumed missing)
	// + create    message of the day on master03 (planned offline: assumed missing)
	// mystage plan: unknown layer nosuch; layers are machines, routers, wan, lb, cluster, motd
	// exit status 1
}

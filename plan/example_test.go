package plan_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/planetstage/planetstage/plan"
)

// A step that creates a directory-like thing once: the first apply creates
// it, the second finds it and changes nothing.
func Example() {
	created := map[string]bool{}
	ensure := func(name string) plan.Step {
		return plan.Funcs{
			InspectFunc: func(context.Context) (plan.Change, error) {
				if created[name] {
					return plan.Change{Action: plan.NoOp}, nil
				}
				return plan.Change{Action: plan.Create, Reason: name + " does not exist"}, nil
			},
			ApplyFunc: func(context.Context, plan.Change) error { created[name] = true; return nil },
		}
	}
	g := new(plan.Graph)
	_ = g.Add(plan.Node{ID: "net", Target: "network site-a", Step: ensure("net")})
	_ = g.Add(plan.Node{ID: "vm", Target: "vm master01", Deps: []string{"net"}, Step: ensure("vm")})

	for range 2 {
		res, err := plan.Walk(context.Background(), g, plan.Options{Apply: true, Parallelism: 1})
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, s := range res.Steps {
			fmt.Println(strings.TrimSpace(fmt.Sprintf("%s: %s %s", s.ID, s.Action, s.Reason)))
		}
		fmt.Printf("%+v\n", res.Summary())
	}
	// Output:
	// net: create net does not exist
	// vm: create vm does not exist
	// {Created:2 Updated:0 Deleted:0 Unchanged:0 Failed:0 Skipped:0 NotRun:0}
	// net: no-op
	// vm: no-op
	// {Created:0 Updated:0 Deleted:0 Unchanged:2 Failed:0 Skipped:0 NotRun:0}
}

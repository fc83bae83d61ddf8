package plan

import "time"

// OfflineReason is the Reason of every step of an Offline plan.
const OfflineReason = "planned offline: assumed missing"

// Offline is the plan of g as if nothing existed yet: every step a Create,
// in dependency order, without running any Inspect, so without reaching a
// single machine. It is for reviewing what a topology would build (how
// many steps, in what order, on what) from anywhere; a Walk says what
// would really change.
func Offline(g *Graph) (*Result, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	res := &Result{Start: time.Now()}
	for _, n := range g.Sorted() {
		res.Steps = append(res.Steps, StepResult{ID: n.ID, Layer: n.Layer, Target: n.Target, Deps: n.Deps,
			Action: Create, Reason: OfflineReason, Outcome: Done})
	}
	return res, nil
}

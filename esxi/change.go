package esxi

import "github.com/planetstage/planetstage/plan"

// Inspect, Apply and Ensure speak plan's step contract (plan.Change with
// plan.Create, plan.Update, plan.NoOp, plan.Delete), so a plan step wraps
// them without translating between two vocabularies.

func noop(reason string) plan.Change { return plan.Change{Action: plan.NoOp, Reason: reason} }

// changed reports whether ch touches the host.
func changed(ch plan.Change) bool { return ch.Action != plan.NoOp && ch.Action != "" }

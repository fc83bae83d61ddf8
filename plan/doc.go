// Package plan is planetstage's execution engine: a graph of steps, each of
// which can say what it would change (Inspect) and change it (Apply), walked
// in dependency order with bounded parallelism.
//
// Building the graph and walking it are separate. An edge means "depends on";
// cycles are rejected before any step runs, naming the cycle. The walk runs a
// step once every dependency succeeded, marks the dependants of a failed step
// skipped (not failed) and goes on with independent branches, stops promptly
// when its context is cancelled, and reports every event to a Hook. Plan
// (inspect only) and apply are the same walk, so what a plan shows is what an
// apply does; a second apply of unchanged input inspects every step as no-op
// and changes nothing.
//
// The package knows nothing of topologies, routers or hypervisors: the
// topology package builds graphs from those, and any program may build its own.
package plan

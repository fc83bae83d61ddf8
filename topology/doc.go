// Package topology is planetstage's model of a testbed — sites, routers,
// hosts, tunnels, a cluster — as Go types and as a YAML file, its
// validation, its state directory, and the plan that builds it from the
// layers.
//
// A topology file is decoded strictly: an unknown field, a malformed address
// or a value of the wrong type is a problem with its line and path, and
// Validate adds every semantic problem (duplicate names or VLANs,
// overlapping prefixes, addresses outside their prefix, dangling
// references). Load returns all of them at once; nothing is touched.
//
// Plan turns a valid topology into a plan.Graph: each layer (esxi, routers,
// lb, cluster) contributes its steps through a Layer value, and they depend
// on each other only through the IDs in ids.go. The caller walks the graph
// with plan.Walk, inspect-only for a plan or applying for an apply.
package topology

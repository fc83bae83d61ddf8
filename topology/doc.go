// Package topology is planetstage's model of a testbed — sites, routers,
// hosts, tunnels, a cluster — as Go types and as a YAML file: decoding,
// validation, defaults, the state directory and the step IDs through which
// layers refer to each other. It builds nothing: package layer turns a
// topology into a plan, and importing topology links neither govmomi nor
// the Kubernetes tree, so a program that only loads and checks topology
// files stays small.
//
// A topology file is decoded strictly: an unknown field, a malformed address
// or a value of the wrong type is a problem with its line and path, and
// Validate adds every semantic problem (duplicate names or VLANs,
// overlapping prefixes, addresses outside their prefix, dangling
// references). Load returns all of them at once; nothing is touched.
package topology

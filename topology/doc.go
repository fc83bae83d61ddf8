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
//
// Hostile input is refused before it is decoded, at about the cost of
// reading it: a file beyond MaxFileSize (16 MiB), and a file whose YAML
// aliases stand for more than MaxNodes nodes (an anchor of thousands of
// hosts referenced by every site), named by the line of the alias. The
// aliases are counted, not expanded, so the check is as cheap as the file
// is small.
package topology

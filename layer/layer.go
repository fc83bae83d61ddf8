package layer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// The built-in layers' names, in build order: what --layers selects and
// plan.Node.Layer carries.
const (
	// Machines makes every machine exist and run: port groups and VMs on
	// the sites' hypervisors (see Provider), a reachability check for
	// machines that already exist.
	Machines = "machines"
	// Routers configures the site-to-site tunnels and routes on every
	// router.
	Routers = "routers"
	// WAN adds the emulated latency between sites (netem) on routers.
	WAN = "wan"
	// LB configures HAProxy in front of the control planes.
	LB = "lb"
	// Cluster bootstraps the kubeadm HA cluster.
	Cluster = "cluster"
)

// Aliases maps a layer name that older files, scripts and tools use to its
// current name: "esxi" was the machines layer when ESXi was its only
// provider.
var Aliases = map[string]string{"esxi": Machines}

// Layer is one layer's contribution to a testbed: the steps that build it,
// the steps that tear it down, and what it would write to a machine. A
// program adds a layer of its own to a Set (see Set.Add); its steps depend
// on other layers' steps through the IDs of package topology.
type Layer struct {
	// Name is what --layers selects; unique in a Set.
	Name string
	// Steps returns the layer's apply steps for t. A layer with nothing to do
	// for t (no hypervisors, no cluster) returns none. t is resolved
	// (topology.Topology.Resolve): valid, defaults filled.
	Steps func(t *topology.Topology, env *Env) ([]plan.Node, error)
	// Destroy returns the steps that remove what the layer created, and
	// nothing else. Optional.
	Destroy func(t *topology.Topology, env *Env) ([]plan.Node, error)
	// Render returns what the layer would apply to machine, secrets redacted
	// unless env.ShowSecrets. Optional.
	Render func(t *topology.Topology, env *Env, machine string) ([]Artifact, error)
}

// Artifact is something a layer writes to a machine, as `stage render`
// prints it.
type Artifact struct {
	Machine string
	Layer   string
	// Title says what it is: "/etc/haproxy/haproxy.cfg", "set commands".
	Title   string
	Content string
}

// Set is an ordered set of layers: what a plan is built from. The zero
// Set has no layers; Default has the built-in ones.
type Set struct {
	layers []Layer
}

// Default returns a new Set of the built-in layers in build order:
// machines, routers, wan, lb, cluster.
func Default() *Set {
	return &Set{layers: []Layer{machinesLayer, routersLayer, wanLayer, lbLayer, clusterLayer}}
}

// Add appends l to the set: its steps are planned, walked and rendered
// like the built-in layers'. The name must be new.
func (s *Set) Add(l Layer) error {
	switch {
	case l.Name == "":
		return fmt.Errorf("layer: a layer needs a name")
	case l.Steps == nil:
		return fmt.Errorf("layer %q: no Steps", l.Name)
	case slices.Contains(s.Names(), l.Name) || Aliases[l.Name] != "":
		return fmt.Errorf("layer %q: the set has a layer of that name", l.Name)
	}
	s.layers = append(s.layers, l)
	return nil
}

// Names returns the names of the set's layers, in build order.
func (s *Set) Names() []string {
	names := make([]string, len(s.layers))
	for i, l := range s.layers {
		names[i] = l.Name
	}
	return names
}

// Select checks names against the set and returns them with aliases
// replaced by the names they stand for; an unknown name is an error that
// lists the set's layers.
func (s *Set) Select(names ...string) ([]string, error) {
	known := s.Names()
	var bad []string
	out := make([]string, 0, len(names))
	for _, n := range names {
		if a, ok := Aliases[n]; ok {
			n = a
		}
		if !slices.Contains(known, n) {
			bad = append(bad, n)
			continue
		}
		out = append(out, n)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("unknown layer %s; layers are %s", strings.Join(bad, ", "), strings.Join(known, ", "))
	}
	return out, nil
}

// Names returns the names of the built-in layers, in build order.
func Names() []string { return Default().Names() }

// Select checks names against the built-in layers (see Set.Select).
func Select(names ...string) ([]string, error) { return Default().Select(names...) }

package topology

import (
	"fmt"
	"slices"
	"strings"

	"github.com/planetstage/planetstage/plan"
)

// Layer is one layer's contribution to a testbed: the steps that build it,
// the steps that tear it down, and what it would write to a machine.
type Layer struct {
	// Name is what --layers selects: "esxi", "routers", "lb", "cluster".
	Name string
	// Steps returns the layer's apply steps for t. A layer with nothing to do
	// for t (no hypervisors, no cluster) returns none.
	Steps func(t *Topology, env *Env) ([]plan.Node, error)
	// Destroy returns the steps that remove what the layer created, and
	// nothing else. Optional.
	Destroy func(t *Topology, env *Env) ([]plan.Node, error)
	// Render returns what the layer would apply to machine, secrets redacted
	// unless env.ShowSecrets. Optional.
	Render func(t *Topology, env *Env, machine string) ([]Artifact, error)
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

// layers lists every layer in the order they build a testbed.
var layers = []Layer{
	esxiLayer,
	routersLayer,
	wanLayer,
	lbLayer,
	clusterLayer,
}

// LayerNames returns the names of the layers, in build order.
func LayerNames() []string {
	names := make([]string, len(layers))
	for i, l := range layers {
		names[i] = l.Name
	}
	return names
}

// CheckLayers reports names that are not layers.
func CheckLayers(names []string) error {
	known := LayerNames()
	var bad []string
	for _, n := range names {
		if !slices.Contains(known, n) {
			bad = append(bad, n)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("unknown layer %s; layers are %s", strings.Join(bad, ", "), strings.Join(known, ", "))
	}
	return nil
}

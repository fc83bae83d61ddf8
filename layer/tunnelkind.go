package layer

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/tunnel"
)

// TunnelKind is one kind of site-to-site tunnel, picked by the topology's
// vpn.type. The routers layer builds the kind-neutral tunnel model
// (package tunnel: which sites are joined, ports, transit addresses,
// routes) and the kind carries it with its own software on the routers.
// OpenVPN (OpenVPN) and WireGuard (WireGuard) are built in; a program adds
// a kind, or replaces one,
// through Env.TunnelKinds.
//
// Nothing else in the layers knows the kind: the wan layer, the relay
// plan and MeasureWAN work from the tunnel model and Interface.
type TunnelKind interface {
	// Interface names the network interface of the tunnel with index
	// (tunnel.Tunnel.Index). Both routers of a tunnel use the same name;
	// the wan layer shapes the tunnel's egress on it.
	Interface(index int) string
	// Routers binds the kind to one plan's tunnel model m. Every router
	// step of the plan shares what it returns, so key material is read
	// (or created) once. It touches no machine.
	Routers(t *topology.Topology, env *Env, m *tunnel.Model) (TunnelRouters, error)
}

// TunnelRouters hands out the drivers of one plan's routers by router kind
// (topology.Router.Kind). A tunnel kind that cannot configure a router
// kind returns an error that says so.
type TunnelRouters interface {
	// Linux returns the driver of site's router, a Linux host.
	Linux(site topology.Site) (TunnelDriver, error)
	// VyOS returns the driver of site's router, a VyOS box.
	VyOS(site topology.Site) (TunnelDriver, error)
	// Warnings are what a plan that brings these tunnels up logs, such
	// as a deprecated setting the topology asks for.
	Warnings() []string
}

// TunnelDriver configures one router's tunnels and its routes through
// them to the other sites.
type TunnelDriver interface {
	// Inspect reports what Apply would change, changing nothing: no
	// reasons means the router is as planned; installed is false while
	// none of its tunnels exist.
	Inspect(ctx context.Context, r remote.Runner) (installed bool, reasons []string, err error)
	// Apply brings the router's tunnels and routes to the model.
	Apply(ctx context.Context, r remote.Runner) error
	// InspectRemove reports what Remove would undo, changing nothing; no
	// reasons means nothing is left.
	InspectRemove(ctx context.Context, r remote.Runner) (reasons []string, err error)
	// Remove takes the router's tunnels, their routes and key material
	// away; the router's base configuration (addresses, SSH) stays.
	Remove(ctx context.Context, r remote.Runner) error
	// Render returns what Apply writes to the router, secrets redacted
	// unless Env.ShowSecrets.
	Render() ([]Artifact, error)
}

// TunnelKinds returns the built-in tunnel kinds by vpn.type.
func TunnelKinds() map[string]TunnelKind {
	return map[string]TunnelKind{topology.VPNTypeOpenVPN: OpenVPN{}, topology.VPNTypeWireGuard: WireGuard{}}
}

// tunnelKind returns the kind of t's tunnels: env.TunnelKinds first, then
// the built-in ones.
func (env *Env) tunnelKind(t *topology.Topology) (TunnelKind, error) {
	// A topology that skipped SetDefaults means the default type.
	name := cmp.Or(t.VPN.Type, topology.VPNTypeOpenVPN)
	if k, ok := env.TunnelKinds[name]; ok && k != nil {
		return k, nil
	}
	builtin := TunnelKinds()
	if k, ok := builtin[name]; ok {
		return k, nil
	}
	for n, k := range env.TunnelKinds {
		if k != nil {
			builtin[n] = k
		}
	}
	return nil, fmt.Errorf("vpn.type: no tunnel kind %q; kinds are %v", name, slices.Sorted(maps.Keys(builtin)))
}

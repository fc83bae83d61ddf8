package layer

import (
	"context"
	"maps"
	"slices"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/wireguard"
)

// TunnelSweeper is a TunnelKind that can find and take away what it left
// on a Linux router without its keys or its tunnels: the routers layer
// asks every kind it knows other than the topology's, so that switching
// vpn.type and re-applying leaves no tunnel, daemon or route of the old
// kind behind. A kind that is not one carries on regardless; its leftovers
// are its users' to clear. (A VyOS router needs no sweep: each kind's
// configuration owns the other's subtrees, and one commit replaces them.)
type TunnelSweeper interface {
	// SweepLinux returns what finds and removes the kind's tunnels, their
	// routes, daemons and files on site's router. m has the topology's
	// sites and no tunnels of the kind's.
	SweepLinux(site topology.Site, env *Env, m *tunnel.Model) TunnelCleaner
}

// TunnelCleaner finds and removes a tunnel kind's leftovers on a router.
type TunnelCleaner interface {
	// InspectRemove reports what Remove would take away; no reasons means
	// nothing is left. It changes nothing.
	InspectRemove(ctx context.Context, r remote.Runner) ([]string, error)
	// Remove takes it away.
	Remove(ctx context.Context, r remote.Runner) error
}

// SweepLinux implements TunnelSweeper: with no tunnels in the model,
// every OpenVPN daemon, device and file planetstage made is stale.
func (OpenVPN) SweepLinux(site topology.Site, env *Env, m *tunnel.Model) TunnelCleaner {
	return &openvpn.Linux{Model: &openvpn.Model{Model: m}, Site: site.Name, Log: env.logger()}
}

// SweepLinux implements TunnelSweeper: with no tunnels in the model,
// every WireGuard interface planetstage configured is stale.
func (WireGuard) SweepLinux(site topology.Site, env *Env, m *tunnel.Model) TunnelCleaner {
	return &wireguard.Linux{Model: &wireguard.Model{Model: m}, Site: site.Name, Log: env.logger()}
}

// sweepers returns the cleaners of every known tunnel kind other than
// kind (the topology's) for site's Linux router.
func (env *Env) sweepers(kind string, site topology.Site, m *tunnel.Model) []TunnelCleaner {
	kinds := TunnelKinds()
	for n, k := range env.TunnelKinds {
		if k != nil {
			kinds[n] = k
		}
	}
	none := &tunnel.Model{Spec: m.Spec}
	var out []TunnelCleaner
	for _, n := range slices.Sorted(maps.Keys(kinds)) {
		if s, ok := kinds[n].(TunnelSweeper); ok && n != kind {
			out = append(out, s.SweepLinux(site, env, none))
		}
	}
	return out
}

package layer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/tunnel"
)

// routersLayer configures every site's router: the tunnels of vpn (mesh or
// hub-and-spoke) and the static routes to the other sites. The tunnel
// model is package tunnel's; the kind of tunnel that carries it (vpn.type,
// a TunnelKind; OpenVPN by default) provides a driver per router, for a
// "vyos" or a "linux" router.
//
// Hosts reach the other sites through their site's router: on real hardware
// the router's LAN address must be the hosts' default gateway (or they need
// routes to the other sites' prefixes via it, as Render prints for a host);
// the lab sets those routes in its containers.
var routersLayer = Layer{
	Name:    Routers,
	Steps:   routerSteps,
	Destroy: routerDestroySteps,
	Render:  renderRouters,
}

// TunnelSpec turns t's sites and vpn into the tunnel model's input.
func TunnelSpec(t *topology.Topology) (tunnel.Spec, error) {
	if t.VPN == nil {
		return tunnel.Spec{}, fmt.Errorf("topology %s has no vpn", t.Name)
	}
	spec := tunnel.Spec{
		Mode: tunnel.Mode(t.VPN.Mode), Hub: t.VPN.Hub, Hubs: t.VPN.Hubs, Transit: t.VPN.Transit,
		// A topology that skipped SetDefaults means the default port.
		Port: uint16(cmp.Or(t.VPN.Port, topology.DefaultVPNPort)),
	}
	// Regional: each spoke's hub, named or the nearest.
	hubOf, err := t.Hubs()
	if err != nil {
		return tunnel.Spec{}, err
	}
	for _, s := range t.Sites {
		site := tunnel.Site{Name: s.Name, Router: s.Router.Name, WAN: s.Router.WAN, LAN: s.Router.LAN, Prefix: s.Prefix}
		if hub := hubOf[s.Name]; hub != s.Name {
			site.Hub = hub
		}
		spec.Sites = append(spec.Sites, site)
	}
	return spec, nil
}

// routers holds what every router step of one plan shares: the tunnel
// model and the tunnel kind bound to it.
type routers struct {
	env     *Env
	kind    string // vpn.type
	model   *tunnel.Model
	tunnels TunnelRouters
}

func newRouters(t *topology.Topology, env *Env) (*routers, error) {
	spec, err := TunnelSpec(t)
	if err != nil {
		return nil, err
	}
	kind, err := env.tunnelKind(t)
	if err != nil {
		return nil, err
	}
	spec.Remotes = env.TunnelRemotes
	m, err := tunnel.New(spec)
	if err != nil {
		return nil, err
	}
	tunnels, err := kind.Routers(t, env, m)
	if err != nil {
		return nil, err
	}
	return &routers{env: env, kind: cmp.Or(t.VPN.Type, topology.VPNTypeOpenVPN), model: m, tunnels: tunnels}, nil
}

// leftovers returns what removes other tunnel kinds' leftovers from
// site's router: a Linux router's, since a VyOS router's configuration
// replaces them itself.
func (rs *routers) leftovers(site topology.Site) []TunnelCleaner {
	if site.Router.Kind != topology.RouterLinux {
		return nil
	}
	return rs.env.sweepers(rs.kind, site, rs.model)
}

// sweepReasons lists what the other tunnel kinds left on the router.
func (rs *routers) sweepReasons(ctx context.Context, site topology.Site, r remote.Runner) ([]string, error) {
	var reasons []string
	for _, c := range rs.leftovers(site) {
		rr, err := c.InspectRemove(ctx, r)
		if err != nil {
			return nil, err
		}
		for _, reason := range rr {
			reasons = append(reasons, reason+" (vpn.type is "+rs.kind+")")
		}
	}
	return reasons, nil
}

// sweep removes what the other tunnel kinds left on the router.
func (rs *routers) sweep(ctx context.Context, site topology.Site, r remote.Runner) error {
	for _, c := range rs.leftovers(site) {
		rr, err := c.InspectRemove(ctx, r)
		if err != nil {
			return err
		}
		if len(rr) == 0 {
			continue
		}
		if err := c.Remove(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// driver returns the tunnel kind's driver for site's router.
func (rs *routers) driver(site topology.Site) (TunnelDriver, error) {
	if site.Router.Kind == topology.RouterLinux {
		return rs.tunnels.Linux(site)
	}
	return rs.tunnels.VyOS(site)
}

func routerSteps(t *topology.Topology, env *Env) ([]plan.Node, error) {
	if t.VPN == nil {
		return nil, nil
	}
	rs, err := newRouters(t, env)
	if err != nil {
		return nil, err
	}
	for _, w := range rs.tunnels.Warnings() {
		env.logger().Warn(w, "topology", t.Name)
	}
	// Every router's configuration is built now, so that one its router
	// cannot carry (a VyOS version without what the topology asks for)
	// fails the plan before any step touches a machine.
	var errs []error
	for _, s := range t.Sites {
		if _, err := rs.driver(s); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var nodes []plan.Node
	for _, s := range t.Sites {
		target := fmt.Sprintf("router %s (%s, site %s, %d tunnels)", s.Router.Name, kindName(s.Router), s.Name, len(rs.model.TunnelsOf(s.Name)))
		nodes = append(nodes, plan.Node{
			ID:     topology.RouterID(s.Router.Name),
			Target: target,
			Deps:   topology.MachineUpIDs(t, s.Router.Name),
			Step:   &routerStep{rs: rs, site: s},
		})
	}
	for _, tn := range rs.model.Tunnels {
		nodes = append(nodes, tunnelProbe(t, env, tn))
	}
	return nodes, nil
}

func kindName(r topology.Router) string {
	if r.Kind == topology.RouterVyOS {
		return "VyOS " + r.Version
	}
	return "Linux"
}

// routerStep configures one router.
type routerStep struct {
	rs   *routers
	site topology.Site
}

// driver returns the router's tunnel driver and a runner on the router.
func (st *routerStep) driver(ctx context.Context) (TunnelDriver, remote.Runner, error) {
	d, err := st.rs.driver(st.site)
	if err != nil {
		return nil, nil, err
	}
	name := st.site.Router.Name
	r, err := st.rs.env.Dial(ctx, name)
	if err != nil {
		return nil, nil, fmt.Errorf("router %q: %w", name, err)
	}
	return d, r, nil
}

// Inspect implements plan.Step.
func (st *routerStep) Inspect(ctx context.Context) (plan.Change, error) {
	if plan.Pending(ctx) {
		// In a plan, the router's machine is still to be created or
		// changed: there is nothing to dial yet.
		return plan.Change{Action: plan.Create, Reason: "configure once its machine is up"}, nil
	}
	d, r, err := st.driver(ctx)
	if err != nil {
		return plan.Change{}, err
	}
	installed, reasons, err := d.Inspect(ctx, r)
	if err != nil {
		return plan.Change{}, err
	}
	stale, err := st.rs.sweepReasons(ctx, st.site, r)
	if err != nil {
		return plan.Change{}, err
	}
	reasons = append(stale, reasons...)
	switch {
	case len(reasons) == 0:
		return plan.Change{Action: plan.NoOp, Reason: "tunnels and routes as planned"}, nil
	case !installed:
		return plan.Change{Action: plan.Create, Reason: summarize(reasons)}, nil
	}
	return plan.Change{Action: plan.Update, Reason: summarize(reasons)}, nil
}

// Apply implements plan.Step.
func (st *routerStep) Apply(ctx context.Context, _ plan.Change) error {
	d, r, err := st.driver(ctx)
	if err != nil {
		return err
	}
	// The old kind's devices go first, and with them their routes, which
	// the new kind's then replace.
	if err := st.rs.sweep(ctx, st.site, r); err != nil {
		return err
	}
	return d.Apply(ctx, r)
}

// routerDestroySteps remove the tunnels, their routes and key material from
// every router; the routers' base configuration (addresses, SSH) stays.
func routerDestroySteps(t *topology.Topology, env *Env) ([]plan.Node, error) {
	if t.VPN == nil {
		return nil, nil
	}
	rs, err := newRouters(t, env)
	if err != nil {
		return nil, err
	}
	var nodes []plan.Node
	for _, s := range t.Sites {
		st := &routerStep{rs: rs, site: s}
		nodes = append(nodes, plan.Node{
			ID:     topology.RouterID(s.Router.Name),
			Target: fmt.Sprintf("tunnels of router %s (%s, site %s)", s.Router.Name, kindName(s.Router), s.Name),
			Step: plan.Funcs{
				InspectFunc: func(ctx context.Context) (plan.Change, error) {
					d, r, err := st.driver(ctx)
					if err != nil {
						return plan.Change{}, err
					}
					reasons, err := d.InspectRemove(ctx, r)
					if err != nil {
						return plan.Change{}, err
					}
					stale, err := rs.sweepReasons(ctx, st.site, r)
					if err != nil {
						return plan.Change{}, err
					}
					reasons = append(reasons, stale...)
					if len(reasons) == 0 {
						return plan.Change{Action: plan.NoOp, Reason: "no tunnels left"}, nil
					}
					return plan.Change{Action: plan.Delete, Reason: summarize(reasons)}, nil
				},
				ApplyFunc: func(ctx context.Context, _ plan.Change) error {
					d, r, err := st.driver(ctx)
					if err != nil {
						return err
					}
					if err := d.Remove(ctx, r); err != nil {
						return err
					}
					return rs.sweep(ctx, st.site, r)
				},
			},
		})
	}
	return nodes, nil
}

// summarize keeps a plan line short: the first changes and a count.
func summarize(reasons []string) string {
	const show = 3
	if len(reasons) <= show {
		return strings.Join(reasons, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(reasons[:show], "; "), len(reasons)-show)
}

func renderRouters(t *topology.Topology, env *Env, machine string) ([]Artifact, error) {
	m, ok := t.Machine(machine)
	if !ok || t.VPN == nil {
		return nil, nil
	}
	rs, err := newRouters(t, env)
	if err != nil {
		return nil, err
	}
	if !m.IsRouter() {
		return []Artifact{hostRoutes(rs.model, m)}, nil
	}
	d, err := rs.driver(m.Site)
	if err != nil {
		return nil, err
	}
	return d.Render()
}

// hostRoutes is what a host needs to reach the other sites: its router as
// the gateway for their prefixes.
func hostRoutes(m *tunnel.Model, host topology.Machine) Artifact {
	var b strings.Builder
	fmt.Fprintf(&b, "# planetstage does not configure hosts' routing. The router's LAN address %s\n", host.Site.Router.LAN)
	b.WriteString("# should be this host's default gateway; otherwise add these routes:\n")
	for _, s := range m.Spec.Sites {
		if s.Name != host.Site.Name {
			fmt.Fprintf(&b, "ip route replace %s via %s  # site %s\n", s.Prefix, host.Site.Router.LAN, s.Name)
		}
	}
	if m.Spec.Mode != tunnel.Mesh {
		// Other spokes' routers answer from their tunnel addresses.
		fmt.Fprintf(&b, "ip route replace %s via %s  # the tunnels' transit addresses\n", m.Spec.Transit.Masked(), host.Site.Router.LAN)
	}
	return Artifact{Title: "routes to the other sites", Content: b.String()}
}

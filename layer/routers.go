package layer

import (
	"cmp"
	"context"
	"fmt"
	"github.com/planetstage/planetstage/topology"
	"strings"
	"sync"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/vyos"
)

// routersLayer configures every site's router: the OpenVPN tunnels of
// vpn (mesh or hub-and-spoke) and the static routes to the other sites. A
// "vyos" router gets set commands over SSH (vbash), a "linux" router
// openvpn.conf files, openvpn daemons and "ip route" over remote.Runner.
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
		Mode: tunnel.Mode(t.VPN.Mode), Hub: t.VPN.Hub, Transit: t.VPN.Transit,
		// A topology that skipped SetDefaults means the default port.
		Port: uint16(cmp.Or(t.VPN.Port, topology.DefaultVPNPort)),
	}
	for _, s := range t.Sites {
		spec.Sites = append(spec.Sites, tunnel.Site{Name: s.Name, Router: s.Router.Name, WAN: s.Router.WAN, LAN: s.Router.LAN, Prefix: s.Prefix})
	}
	return spec, nil
}

// routers holds what every router step of one plan shares: the tunnel model
// and the keys, loaded (and created on first use) once from the state.
type routers struct {
	t     *topology.Topology
	env   *Env
	model *openvpn.Model

	once sync.Once
	keys *openvpn.Keys
	err  error
}

func newRouters(t *topology.Topology, env *Env) (*routers, error) {
	spec, err := TunnelSpec(t)
	if err != nil {
		return nil, err
	}
	spec.Remotes = env.TunnelRemotes
	tm, err := tunnel.New(spec)
	if err != nil {
		return nil, err
	}
	m, err := openvpn.New(tm, openvpn.Options{Auth: openvpn.Auth(t.VPN.Auth)})
	if err != nil {
		return nil, err
	}
	return &routers{t: t, env: env, model: m}, nil
}

// loadKeys reads the keys from the state directory, creating them the
// first time. Keys live only on this machine and the routers.
func (rs *routers) loadKeys() (*openvpn.Keys, error) {
	rs.once.Do(func() {
		if rs.env.State == nil {
			rs.err = fmt.Errorf("routers: no state directory for the VPN keys")
			return
		}
		rs.keys, rs.err = openvpn.LoadKeys(rs.env.State, rs.model)
	})
	return rs.keys, rs.err
}

func routerSteps(t *topology.Topology, env *Env) ([]plan.Node, error) {
	if t.VPN == nil {
		return nil, nil
	}
	rs, err := newRouters(t, env)
	if err != nil {
		return nil, err
	}
	if t.VPN.Auth == topology.VPNAuthStatic {
		env.logger().Warn(openvpn.StaticKeyWarning, "topology", t.Name)
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

// driver is what the two router kinds have in common.
type driver struct {
	inspect       func(ctx context.Context) (installed bool, reasons []string, err error)
	apply         func(ctx context.Context) error
	inspectRemove func(ctx context.Context) (reasons []string, err error)
	remove        func(ctx context.Context) error
}

func (st *routerStep) driver(ctx context.Context) (driver, error) {
	keys, err := st.rs.loadKeys()
	if err != nil {
		return driver{}, err
	}
	name := st.site.Router.Name
	r, err := st.rs.env.Dial(ctx, name)
	if err != nil {
		return driver{}, fmt.Errorf("router %q: %w", name, err)
	}
	if st.site.Router.Kind == topology.RouterLinux {
		l := &openvpn.Linux{Model: st.rs.model, Keys: keys, Site: st.site.Name, Log: st.rs.env.logger()}
		return driver{
			inspect: func(ctx context.Context) (bool, []string, error) {
				d, err := l.Inspect(ctx, r)
				return d.Installed, d.Reasons, err
			},
			apply:         func(ctx context.Context) error { return l.Apply(ctx, r) },
			inspectRemove: func(ctx context.Context) ([]string, error) { return l.InspectRemove(ctx, r) },
			remove:        func(ctx context.Context) error { return l.Remove(ctx, r) },
		}, nil
	}
	cfg, err := vyosConfig(st.rs.t, st.rs.env, st.rs.model, keys, st.site)
	if err != nil {
		return driver{}, err
	}
	return driver{
		inspect: func(ctx context.Context) (bool, []string, error) {
			d, err := vyos.Inspect(ctx, r, cfg)
			return d.Installed, d.Reasons(), err
		},
		apply: func(ctx context.Context) error {
			return vyos.Apply(ctx, r, cfg, vyos.Options{Log: st.rs.env.logger()})
		},
		inspectRemove: func(ctx context.Context) ([]string, error) { return vyos.InspectRemove(ctx, r, cfg) },
		remove: func(ctx context.Context) error {
			return vyos.Remove(ctx, r, cfg, vyos.Options{Log: st.rs.env.logger()})
		},
	}, nil
}

func vyosConfig(t *topology.Topology, env *Env, m *openvpn.Model, k *openvpn.Keys, s topology.Site) (*vyos.Config, error) {
	d, err := vyos.ParseVersion(s.Router.Version)
	if err != nil {
		return nil, fmt.Errorf("router %q: %w", s.Router.Name, err)
	}
	// The site's VLAN is tagged by the hypervisor's port group, so the
	// router's LAN interface is untagged.
	port := 0
	if t.SSH != nil {
		port = t.SSH.Port
	}
	// The WAN latency between sites becomes network-emulator policies on
	// the tunnel interfaces.
	latency, err := LatencyFor(t, env, s.Name)
	if err != nil {
		return nil, fmt.Errorf("router %q: %w", s.Router.Name, err)
	}
	return vyos.Build(vyos.Router{Model: m, Keys: k, Site: s.Name, Dialect: d, Underlay: t.Underlay.Prefix, SSHPort: port, Latency: latency})
}

// Inspect implements plan.Step.
func (st *routerStep) Inspect(ctx context.Context) (plan.Change, error) {
	if plan.Pending(ctx) {
		// In a plan, the router's machine is still to be created or
		// changed: there is nothing to dial yet.
		return plan.Change{Action: plan.Create, Reason: "configure once its machine is up"}, nil
	}
	d, err := st.driver(ctx)
	if err != nil {
		return plan.Change{}, err
	}
	installed, reasons, err := d.inspect(ctx)
	if err != nil {
		return plan.Change{}, err
	}
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
	d, err := st.driver(ctx)
	if err != nil {
		return err
	}
	return d.apply(ctx)
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
					d, err := st.driver(ctx)
					if err != nil {
						return plan.Change{}, err
					}
					reasons, err := d.inspectRemove(ctx)
					if err != nil {
						return plan.Change{}, err
					}
					if len(reasons) == 0 {
						return plan.Change{Action: plan.NoOp, Reason: "no tunnels left"}, nil
					}
					return plan.Change{Action: plan.Delete, Reason: summarize(reasons)}, nil
				},
				ApplyFunc: func(ctx context.Context, _ plan.Change) error {
					d, err := st.driver(ctx)
					if err != nil {
						return err
					}
					return d.remove(ctx)
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
	keys, err := rs.loadKeys()
	if err != nil {
		return nil, err
	}
	if m.Site.Router.Kind == topology.RouterVyOS {
		cfg, err := vyosConfig(t, rs.env, rs.model, keys, m.Site)
		if err != nil {
			return nil, err
		}
		return []Artifact{{Title: "set commands (VyOS " + string(cfg.Dialect) + ")", Content: vyos.Render(cfg, env.ShowSecrets)}}, nil
	}
	// The boot script is among the files: it is exactly the commands Apply
	// runs (forwarding, devices, daemons, routes), and what brings them back
	// after a reboot.
	files, err := (&openvpn.Linux{Model: rs.model, Keys: keys, Site: m.Site.Name}).Files()
	if err != nil {
		return nil, err
	}
	var arts []Artifact
	for _, f := range files {
		content := string(f.Data)
		if f.Secret {
			content = env.Secret(content)
		}
		arts = append(arts, Artifact{Title: fmt.Sprintf("%s (mode %04o)", f.Path, f.Mode()), Content: content})
	}
	return arts, nil
}

// hostRoutes is what a host needs to reach the other sites: its router as
// the gateway for their prefixes.
func hostRoutes(m *openvpn.Model, host topology.Machine) Artifact {
	var b strings.Builder
	fmt.Fprintf(&b, "# planetstage does not configure hosts' routing. The router's LAN address %s\n", host.Site.Router.LAN)
	b.WriteString("# should be this host's default gateway; otherwise add these routes:\n")
	for _, s := range m.Spec.Sites {
		if s.Name != host.Site.Name {
			fmt.Fprintf(&b, "ip route replace %s via %s  # site %s\n", s.Prefix, host.Site.Router.LAN, s.Name)
		}
	}
	if m.Spec.Mode == tunnel.HubSpoke {
		// Other spokes' routers answer from their tunnel addresses.
		fmt.Fprintf(&b, "ip route replace %s via %s  # the tunnels' transit addresses\n", m.Spec.Transit.Masked(), host.Site.Router.LAN)
	}
	return Artifact{Title: "routes to the other sites", Content: b.String()}
}

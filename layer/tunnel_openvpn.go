package layer

import (
	"context"
	"fmt"
	"sync"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/vyos"
)

// OpenVPN is the tunnel kind "openvpn" (the default vpn.type): tunnel i is
// the interface "vtun<i>" on both of its routers. A Linux router gets
// openvpn.conf files, openvpn daemons and "ip route" (openvpn.Linux), a
// VyOS router set commands over SSH (package vyos) that also carry the
// WAN latency (LatencyFor). vpn.auth picks TLS or static keys; the keys
// are created in Env.State on first use and reused after.
type OpenVPN struct{}

// Interface implements TunnelKind.
func (OpenVPN) Interface(index int) string { return openvpn.Interface(index) }

// Routers implements TunnelKind.
func (OpenVPN) Routers(t *topology.Topology, env *Env, m *tunnel.Model) (TunnelRouters, error) {
	om, err := openvpn.New(m, openvpn.Options{Auth: openvpn.Auth(t.VPN.Auth)})
	if err != nil {
		return nil, err
	}
	return &openvpnRouters{t: t, env: env, model: om}, nil
}

// openvpnRouters is the OpenVPN kind bound to one plan: the model and the
// keys, loaded (and created on first use) once from the state.
type openvpnRouters struct {
	t     *topology.Topology
	env   *Env
	model *openvpn.Model

	once sync.Once
	keys *openvpn.Keys
	err  error
}

// loadKeys reads the keys from the state directory, creating them the
// first time. Keys live only on this machine and the routers.
func (o *openvpnRouters) loadKeys() (*openvpn.Keys, error) {
	o.once.Do(func() {
		if o.env.State == nil {
			o.err = fmt.Errorf("routers: no state directory for the VPN keys")
			return
		}
		o.keys, o.err = openvpn.LoadKeys(o.env.State, o.model)
	})
	return o.keys, o.err
}

// Warnings implements TunnelRouters.
func (o *openvpnRouters) Warnings() []string {
	if o.model.Auth == openvpn.StaticKey {
		return []string{openvpn.StaticKeyWarning}
	}
	return nil
}

// Linux implements TunnelRouters.
func (o *openvpnRouters) Linux(site topology.Site) (TunnelDriver, error) {
	keys, err := o.loadKeys()
	if err != nil {
		return nil, err
	}
	return &openvpnLinux{
		l:   &openvpn.Linux{Model: o.model, Keys: keys, Site: site.Name, Log: o.env.logger()},
		env: o.env,
	}, nil
}

// VyOS implements TunnelRouters.
func (o *openvpnRouters) VyOS(site topology.Site) (TunnelDriver, error) {
	keys, err := o.loadKeys()
	if err != nil {
		return nil, err
	}
	cfg, err := vyosConfig(o.t, o.env, o.model, keys, site)
	if err != nil {
		return nil, err
	}
	return &vyosRouter{cfg: cfg, env: o.env}, nil
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

// openvpnLinux drives a Linux router's OpenVPN tunnels.
type openvpnLinux struct {
	l   *openvpn.Linux
	env *Env
}

func (d *openvpnLinux) Inspect(ctx context.Context, r remote.Runner) (bool, []string, error) {
	drift, err := d.l.Inspect(ctx, r)
	return drift.Installed, drift.Reasons, err
}

func (d *openvpnLinux) Apply(ctx context.Context, r remote.Runner) error { return d.l.Apply(ctx, r) }

func (d *openvpnLinux) InspectRemove(ctx context.Context, r remote.Runner) ([]string, error) {
	return d.l.InspectRemove(ctx, r)
}

func (d *openvpnLinux) Remove(ctx context.Context, r remote.Runner) error { return d.l.Remove(ctx, r) }

// Render shows the router's files. The boot script is among them: it is
// exactly the commands Apply runs (forwarding, devices, daemons, routes),
// and what brings them back after a reboot.
func (d *openvpnLinux) Render() ([]Artifact, error) {
	files, err := d.l.Files()
	if err != nil {
		return nil, err
	}
	var arts []Artifact
	for _, f := range files {
		content := string(f.Data)
		if f.Secret {
			content = d.env.Secret(content)
		}
		arts = append(arts, Artifact{Title: fmt.Sprintf("%s (mode %04o)", f.Path, f.Mode()), Content: content})
	}
	return arts, nil
}

// vyosRouter drives a VyOS router to the configuration package vyos
// built for it.
type vyosRouter struct {
	cfg *vyos.Config
	env *Env
}

func (d *vyosRouter) Inspect(ctx context.Context, r remote.Runner) (bool, []string, error) {
	drift, err := vyos.Inspect(ctx, r, d.cfg)
	return drift.Installed, drift.Reasons(), err
}

func (d *vyosRouter) Apply(ctx context.Context, r remote.Runner) error {
	return vyos.Apply(ctx, r, d.cfg, vyos.Options{Log: d.env.logger()})
}

func (d *vyosRouter) InspectRemove(ctx context.Context, r remote.Runner) ([]string, error) {
	return vyos.InspectRemove(ctx, r, d.cfg)
}

func (d *vyosRouter) Remove(ctx context.Context, r remote.Runner) error {
	return vyos.Remove(ctx, r, d.cfg, vyos.Options{Log: d.env.logger()})
}

func (d *vyosRouter) Render() ([]Artifact, error) {
	return []Artifact{{Title: "set commands (VyOS " + string(d.cfg.Dialect) + ")", Content: vyos.Render(d.cfg, d.env.ShowSecrets)}}, nil
}

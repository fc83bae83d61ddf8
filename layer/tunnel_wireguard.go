package layer

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"sync"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/vyos"
	"github.com/planetstage/planetstage/wireguard"
)

// WireGuard is the tunnel kind "wireguard": tunnel i is the interface
// "wg<i>" on both of its routers. A Linux router gets the kernel's
// WireGuard, or wireguard-go where the kernel has no module, configured
// with wg(8) and ip(8) (wireguard.Linux); a VyOS router set commands
// (package vyos). vpn.wireguard sets the keepalive, pre-shared keys and
// endpoints of routers behind NAT; the keys are created in Env.State on
// first use and reused after.
type WireGuard struct{}

// Interface implements TunnelKind.
func (WireGuard) Interface(index int) string { return wireguard.Interface(index) }

// Routers implements TunnelKind.
func (WireGuard) Routers(t *topology.Topology, env *Env, m *tunnel.Model) (TunnelRouters, error) {
	o, err := wireGuardOptions(t)
	if err != nil {
		return nil, err
	}
	wm, err := wireguard.New(m, o)
	if err != nil {
		return nil, err
	}
	return &wireguardRouters{t: t, env: env, model: wm}, nil
}

// wireGuardOptions turns vpn.wireguard into the package's options.
func wireGuardOptions(t *topology.Topology) (wireguard.Options, error) {
	var o wireguard.Options
	wg := t.VPN.WireGuard
	if wg == nil {
		return o, nil
	}
	o.Keepalive, o.PresharedKey = wg.Keepalive, wg.PresharedKey
	for router, s := range wg.Endpoints {
		ap, err := topology.ParseEndpoint(s)
		if err != nil {
			return o, fmt.Errorf("vpn.wireguard.endpoints.%s: %w", router, err)
		}
		if o.Endpoints == nil {
			o.Endpoints = map[string]netip.AddrPort{}
		}
		o.Endpoints[router] = ap
	}
	return o, nil
}

// wireguardRouters is the WireGuard kind bound to one plan: the model and
// the keys, loaded (and created on first use) once from the state.
type wireguardRouters struct {
	t     *topology.Topology
	env   *Env
	model *wireguard.Model

	once sync.Once
	keys *wireguard.Keys
	err  error
}

func (w *wireguardRouters) loadKeys() (*wireguard.Keys, error) {
	w.once.Do(func() {
		if w.env.State == nil {
			w.err = fmt.Errorf("routers: no state directory for the VPN keys")
			return
		}
		w.keys, w.err = wireguard.LoadKeys(w.env.State, w.model)
	})
	return w.keys, w.err
}

// Warnings implements TunnelRouters.
func (w *wireguardRouters) Warnings() []string { return nil }

// Linux implements TunnelRouters.
func (w *wireguardRouters) Linux(site topology.Site) (TunnelDriver, error) {
	keys, err := w.loadKeys()
	if err != nil {
		return nil, err
	}
	return &wireguardLinux{l: &wireguard.Linux{Model: w.model, Keys: keys, Site: site.Name, Log: w.env.logger()}, env: w.env}, nil
}

// VyOS implements TunnelRouters.
func (w *wireguardRouters) VyOS(site topology.Site) (TunnelDriver, error) {
	keys, err := w.loadKeys()
	if err != nil {
		return nil, err
	}
	return vyosWireGuard(w.t, w.env, w.model, keys, site)
}

// wireguardLinux drives a Linux router's WireGuard tunnels.
type wireguardLinux struct {
	l   *wireguard.Linux
	env *Env
}

func (d *wireguardLinux) Inspect(ctx context.Context, r remote.Runner) (bool, []string, error) {
	drift, err := d.l.Inspect(ctx, r)
	return drift.Installed, drift.Reasons, err
}

func (d *wireguardLinux) Apply(ctx context.Context, r remote.Runner) error { return d.l.Apply(ctx, r) }

func (d *wireguardLinux) InspectRemove(ctx context.Context, r remote.Runner) ([]string, error) {
	return d.l.InspectRemove(ctx, r)
}

func (d *wireguardLinux) Remove(ctx context.Context, r remote.Runner) error {
	return d.l.Remove(ctx, r)
}

// wgKeyLine is a line of a WireGuard configuration that holds a secret.
var wgKeyLine = regexp.MustCompile(`(?m)^((?:PrivateKey|PresharedKey) = ).*$`)

// Render shows the router's files; the keys in them are redacted unless
// Env.ShowSecrets, the rest is shown as written.
func (d *wireguardLinux) Render() ([]Artifact, error) {
	files, err := d.l.Files()
	if err != nil {
		return nil, err
	}
	var arts []Artifact
	for _, f := range files {
		content := string(f.Data)
		if f.Secret && !d.env.ShowSecrets {
			content = wgKeyLine.ReplaceAllString(content, "${1}"+secret.Redacted)
		}
		arts = append(arts, Artifact{Title: fmt.Sprintf("%s (mode %04o)", f.Path, f.Mode()), Content: content})
	}
	return arts, nil
}

// vyosWireGuard is the driver of a VyOS router whose tunnels WireGuard
// carries: set commands from package vyos, applied and read back as the
// OpenVPN ones are.
func vyosWireGuard(t *topology.Topology, env *Env, m *wireguard.Model, k *wireguard.Keys, s topology.Site) (TunnelDriver, error) {
	d, err := vyos.ParseVersion(s.Router.Version)
	if err != nil {
		return nil, fmt.Errorf("router %q: %w", s.Router.Name, err)
	}
	port := 0
	if t.SSH != nil {
		port = t.SSH.Port
	}
	latency, err := LatencyFor(t, env, s.Name)
	if err != nil {
		return nil, fmt.Errorf("router %q: %w", s.Router.Name, err)
	}
	cfg, err := vyos.BuildWireGuard(vyos.WireGuardRouter{Model: m, Keys: k, Site: s.Name, Dialect: d, Underlay: t.Underlay.Prefix, SSHPort: port, Latency: latency})
	if err != nil {
		return nil, err
	}
	return &vyosRouter{cfg: cfg, env: env}, nil
}

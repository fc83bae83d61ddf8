package layer

import (
	"context"
	"fmt"
	"strings"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/wan"
)

// Faults on hardware: an experiment cuts a tunnel or changes its shape on
// the routers themselves, while the testbed runs (the lab does both on its
// WAN relay instead). Linux routers only: a VyOS router's tunnels would
// need a configure session per fault, which is not built; the error says
// so.

// cutComment marks the firewall rules CutTunnel adds, so that healing
// removes exactly those.
const cutComment = "planetstage-cut"

// CutTunnel cuts the tunnel between sites a and b (cut true: both routers
// drop everything that enters or leaves its interface, in and through
// them) or heals it (cut false: those rules removed). The tunnel itself
// stays up underneath, as when a path across the Internet fails, so a
// healed tunnel carries traffic again at once. Both are idempotent.
func CutTunnel(ctx context.Context, t *topology.Topology, env *Env, a, b string, cut bool) error {
	iface, ends, err := faultTarget(t, env, a, b, "cut a tunnel")
	if err != nil {
		return err
	}
	q := remote.ShellQuote(iface)
	var script []string
	for _, rule := range []string{"INPUT -i " + q, "OUTPUT -o " + q, "FORWARD -i " + q, "FORWARD -o " + q} {
		spec := rule + " -m comment --comment " + cutComment + " -j DROP"
		if cut {
			script = append(script, "iptables -C "+spec+" 2>/dev/null || iptables -I "+spec)
		} else {
			script = append(script, "while iptables -D "+spec+" 2>/dev/null; do :; done")
		}
	}
	for _, s := range ends {
		if err := runOn(ctx, env, s.Router.Name, strings.Join(script, " && ")); err != nil {
			return fmt.Errorf("tunnel %s–%s: %w", a, b, err)
		}
	}
	return nil
}

// ShapeTunnel gives both directions of the tunnel between sites a and b
// the one-way shape s, as netem on each router's tunnel interface (a zero
// shape removes netem). It needs the routers' kernels to have the netem
// qdisc; the error says so when one has not.
func ShapeTunnel(ctx context.Context, t *topology.Topology, env *Env, a, b string, s wan.Shape) error {
	iface, ends, err := faultTarget(t, env, a, b, "shape a tunnel")
	if err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("tunnel %s–%s: %w", a, b, err)
	}
	for i, site := range ends {
		r, err := env.Dial(ctx, site.Router.Name)
		if err != nil {
			return fmt.Errorf("router %q: %w", site.Router.Name, err)
		}
		peer := ends[1-i].Name
		if err := wan.ApplyLinuxNetem(ctx, r, []wan.Egress{{Interface: iface, Policy: "WAN-" + peer, Shape: s}}); err != nil {
			return fmt.Errorf("tunnel %s–%s: %w", a, b, err)
		}
	}
	return nil
}

// faultTarget finds the tunnel that joins sites a and b directly: its
// interface and the two sites, whose routers must be Linux routers.
func faultTarget(t *topology.Topology, env *Env, a, b, what string) (string, [2]topology.Site, error) {
	var ends [2]topology.Site
	spec, err := TunnelSpec(t)
	if err != nil {
		return "", ends, err
	}
	m, err := tunnel.New(spec)
	if err != nil {
		return "", ends, err
	}
	kind, err := env.tunnelKind(t)
	if err != nil {
		return "", ends, err
	}
	for _, tn := range m.Tunnels {
		x, y := tn.Ends[0].Site, tn.Ends[1].Site
		if (x != a || y != b) && (x != b || y != a) {
			continue
		}
		for i, name := range []string{x, y} {
			s, _ := t.Site(name)
			if s.Router.Kind != topology.RouterLinux {
				return "", ends, fmt.Errorf("tunnel %s–%s: router %q is a %s router: planetstage can %s on Linux routers only", a, b, s.Router.Name, s.Router.Kind, what)
			}
			ends[i] = s
		}
		return kind.Interface(tn.Index), ends, nil
	}
	return "", ends, fmt.Errorf("no tunnel joins sites %q and %q directly", a, b)
}

func runOn(ctx context.Context, env *Env, machine, command string) error {
	r, err := env.Dial(ctx, machine)
	if err != nil {
		return fmt.Errorf("router %q: %w", machine, err)
	}
	if out, err := remote.CombinedOutput(ctx, r, command); err != nil {
		return fmt.Errorf("router %q: %s: %w", machine, strings.TrimSpace(out), err)
	}
	return nil
}

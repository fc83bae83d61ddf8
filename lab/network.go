package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	dc "github.com/ory/dockertest/v3/docker"
)

// network is one Docker network of a lab.
type network struct {
	name    string
	prefix  netip.Prefix
	gateway netip.Addr
}

// networkName names a lab network. The underlay sorts first so that Docker,
// which orders a container's interfaces by network name, gives routers eth0
// on the underlay and eth1 on their site, as in the thesis.
func (l *Lab) networkName(site string) string {
	if site == "" {
		return l.name + "-0-underlay"
	}
	return l.name + "-1-" + site
}

func (l *Lab) networks() ([]network, error) {
	spec := l.Spec()
	used := map[netip.Addr]bool{}
	for _, m := range spec.Machines() {
		for _, a := range m.Addresses {
			used[a] = true
		}
	}
	var out []network
	add := func(name string, p netip.Prefix) error {
		gw, err := gateway(p, used)
		if err != nil {
			return fmt.Errorf("network %s: %w", name, err)
		}
		out = append(out, network{name: name, prefix: p.Masked(), gateway: gw})
		return nil
	}
	if err := add(l.networkName(""), spec.Underlay); err != nil {
		return nil, err
	}
	for _, s := range spec.Sites {
		if err := add(l.networkName(s.Name), s.Prefix); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// createNetworks makes the underlay and one network per site. They are
// internal: Docker neither routes nor NATs them to the world. Docker's
// isolation rules for internal networks also drop frames whose addresses lie
// outside the network's prefix, which is every routed packet between a host
// and its router; one ACCEPT per bridge for frames that stay on that bridge
// lets the lab's routers route, and opens no path off the bridge.
func (l *Lab) createNetworks(ctx context.Context) error {
	nets, err := l.networks()
	if err != nil {
		return err
	}
	var bridges []string
	for _, n := range nets {
		id, err := l.d.createNetwork(ctx, networkSpec{Name: n.name, Subnet: n.prefix, Gateway: n.gateway, Internal: true,
			Labels: map[string]string{LabelKey: l.name, imageLabel: l.image}})
		if err != nil {
			return fmt.Errorf("network %s (%s): %w", n.name, n.prefix, err)
		}
		if len(id) < 12 {
			return fmt.Errorf("network %s: docker returned no id", n.name)
		}
		bridges = append(bridges, "br-"+id[:12])
	}
	return l.allowBridged(ctx, bridges, l.relayRule(bridges[0]))
}

// relayRule is the firewall rule that lets the routers reach the WAN
// relay on the host's underlay address (underlay is the underlay's bridge):
// those datagrams go to the host itself (INPUT), which Docker's rules for
// internal networks do not cover, and a host whose INPUT policy drops
// would otherwise swallow them. Empty without a relay.
func (l *Lab) relayRule(underlay string) string {
	if l.relay == nil {
		return ""
	}
	first, last := l.relay.Ports()
	return fmt.Sprintf("-i %s -d %s -p udp --dport %d:%d", underlay, l.relay.Bind, first, last)
}

// iptablesPrelude picks the iptables variant that holds Docker's chains.
const iptablesPrelude = `ipt=iptables; $ipt -S DOCKER-USER >/dev/null 2>&1 || ipt=iptables-legacy; $ipt -S DOCKER-USER >/dev/null 2>&1 || { echo "no DOCKER-USER chain: docker runs without iptables" >&2; exit 0; }; `

// helperLabelKey marks the lab's short-lived helper containers.
const helperLabelKey = "io.planetstage.helper"

// imageLabel labels a lab's networks with the image its firewall helper
// runs, so that Down finds it.
const imageLabel = "io.planetstage.image"

// helperLabels are the labels of a helper container of lab.
func helperLabels(lab string) map[string]string {
	return map[string]string{LabelKey: lab, helperLabelKey: "1"}
}

func ruleComment(lab string) string { return LabelKey + "=" + lab }

// allowBridged adds the per-bridge ACCEPT rules to DOCKER-USER (the chain
// Docker leaves to users) from a short-lived container in the host's network
// namespace with NET_ADMIN, so the lab needs only access to the Docker engine,
// not root on this machine.
//
// input, when not empty, is the match of an ACCEPT rule for INPUT (the WAN
// relay's, see relayRule).
func (l *Lab) allowBridged(ctx context.Context, bridges []string, input string) error {
	var b strings.Builder
	b.WriteString(iptablesPrelude)
	for _, br := range bridges {
		fmt.Fprintf(&b, "$ipt -I DOCKER-USER -i %s -o %s -m comment --comment %s -j ACCEPT || exit 1; ", br, br, ruleComment(l.name))
	}
	if input != "" {
		fmt.Fprintf(&b, "$ipt -I INPUT %s -m comment --comment %s -j ACCEPT || exit 1; ", input, ruleComment(l.name))
	}
	if err := hostNetHelper(ctx, l.d, l.name, l.image, b.String()); err != nil {
		return fmt.Errorf("allow routing on the lab's bridges: %w", err)
	}
	return nil
}

// hostNetHelper runs script in a short-lived container in the host's
// network namespace with NET_ADMIN. It carries the lab's label, so that a
// crash that leaves it behind is swept like the rest.
func hostNetHelper(ctx context.Context, d *engine, lab, image, script string) error {
	_, err := d.run(ctx, containerSpec{Image: image, Network: "host", CapAdd: []string{"NET_ADMIN"}, Labels: helperLabels(lab),
		Entrypoint: []string{"/bin/sh"}, Cmd: []string{"-c", script}})
	return err
}

// sweep removes every container and network labelled with lab, and the
// lab's firewall rules. image runs the firewall helper; empty finds it on a
// labelled network, and skips the rules when there is none (rules of removed
// bridges match nothing).
func sweep(ctx context.Context, d *engine, lab, image string) error {
	label := LabelKey + "=" + lab
	var errs []error
	cs, err := d.listContainers(ctx, label)
	if err != nil {
		return err
	}
	for _, c := range cs {
		errs = append(errs, d.removeContainer(ctx, c.ID))
	}
	nets, err := d.listNetworks(label)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	if image == "" && len(nets) > 0 {
		image = nets[0].Labels[imageLabel]
	}
	if len(nets) > 0 {
		errs = append(errs, removeNetworks(ctx, d, nets))
	}
	if image != "" {
		script := iptablesPrelude + fmt.Sprintf(`for c in DOCKER-USER INPUT; do $ipt -S $c | grep -F -- '"%s"' | sed 's/^-A /-D /' | xargs -r -L1 $ipt; done`, ruleComment(lab))
		if err := hostNetHelper(ctx, d, lab, image, script); err != nil {
			errs = append(errs, fmt.Errorf("remove firewall rules: %w", err))
		}
	}
	return errors.Join(errs...)
}

// removeNetworks removes nets. Docker refuses a network with "active
// endpoints" for a moment after its containers were removed, so that is
// tried again for a few seconds; a count that stays above zero with no
// container left is Docker's own stale state, which only a restart of the
// engine clears: the error says so.
func removeNetworks(ctx context.Context, d *engine, nets []dc.Network) error {
	var errs []error
	for _, n := range nets {
		var err error
		for range 10 {
			if err = d.removeNetwork(n.ID); err == nil || !strings.Contains(err.Error(), "active endpoints") {
				break
			}
			select {
			case <-ctx.Done():
				return errors.Join(append(errs, ctx.Err())...)
			case <-time.After(500 * time.Millisecond):
			}
		}
		if err != nil && strings.Contains(err.Error(), "active endpoints") {
			err = fmt.Errorf("%w (the Docker engine counts an endpoint on a network no container uses, which a restart of the engine clears)", err)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

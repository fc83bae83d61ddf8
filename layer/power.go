package layer

import (
	"context"
	"errors"
	"fmt"

	"github.com/planetstage/planetstage/topology"
)

// PowerSwitch is what a Provider implements to stop and start one of its
// machines while the testbed runs: an experiment's fault, a control plane
// lost on purpose. ESXi implements it.
type PowerSwitch interface {
	// Power turns machine (on a hypervisor h of the provider's kind) off
	// (on false, a hard power off) or on, and returns once the hypervisor
	// reports it so. A machine already in that state is no error.
	Power(ctx context.Context, t *topology.Topology, env *Env, h topology.Hypervisor, machine string, on bool) error
}

// ErrNoPowerSwitch is Power's error for a machine planetstage cannot stop
// or start: one that exists outside any hypervisor, or whose provider has
// no PowerSwitch.
var ErrNoPowerSwitch = errors.New("planetstage cannot stop or start it")

// Power turns machine off (on false) or on through the provider of its
// site's hypervisor.
func Power(ctx context.Context, t *topology.Topology, env *Env, machine string, on bool) error {
	m, ok := t.Machine(machine)
	if !ok {
		return fmt.Errorf("no machine %q in topology %q", machine, t.Name)
	}
	if m.Site.Hypervisor == "" {
		return fmt.Errorf("machine %q: %w: site %q has no hypervisor, so its machines are ones that exist", machine, ErrNoPowerSwitch, m.Site.Name)
	}
	h, ok := t.Hypervisor(m.Site.Hypervisor)
	if !ok {
		return fmt.Errorf("machine %q: no hypervisor %q", machine, m.Site.Hypervisor)
	}
	p, err := env.provider(h.Kind)
	if err != nil {
		return fmt.Errorf("machine %q: %w", machine, err)
	}
	ps, ok := p.(PowerSwitch)
	if !ok {
		return fmt.Errorf("machine %q: %w: the %s provider has no power switch", machine, ErrNoPowerSwitch, h.Kind)
	}
	return ps.Power(ctx, t, env, h, machine, on)
}

// Power turns the VM of machine on h off or on.
func (ESXi) Power(ctx context.Context, t *topology.Topology, env *Env, h topology.Hypervisor, machine string, on bool) error {
	c, err := env.esxiOptions().client(ctx, env, h)
	if err != nil {
		return err
	}
	return c.ApplyPower(ctx, machine, on)
}

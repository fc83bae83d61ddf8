package lab

import (
	"context"
	"fmt"

	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// vmProvider is the lab's provider for the hypervisors it simulates: the
// ESXi provider builds the port groups and VMs in govmomi's simulator, as
// on hardware, and each machine's container starts when the plan powers its
// VM on — the VM's "boot". In a lab attached from another process the
// simulators are gone with that process: then the machines' up steps only
// check that their containers run.
type vmProvider struct {
	l     *Lab
	inner layer.Provider
}

// Steps implements layer.Provider.
func (p vmProvider) Steps(t *topology.Topology, env *layer.Env, hyps []topology.Hypervisor) ([]plan.Node, error) {
	if len(p.l.sims) == 0 {
		return p.attachedSteps(t, hyps), nil
	}
	nodes, err := p.inner.Steps(t, env, hyps)
	if err != nil {
		return nil, err
	}
	for i, n := range nodes {
		for _, m := range t.Machines() {
			if n.ID == topology.MachineUpID(m.Name) {
				nodes[i].Step = bootStep{l: p.l, machine: m.Name, power: n.Step}
			}
		}
	}
	return nodes, nil
}

// Destroy implements layer.Provider.
func (p vmProvider) Destroy(t *topology.Topology, env *layer.Env, hyps []topology.Hypervisor) ([]plan.Node, error) {
	if len(p.l.sims) == 0 {
		return nil, nil
	}
	return p.inner.Destroy(t, env, hyps)
}

// Render implements layer.Provider.
func (p vmProvider) Render(t *topology.Topology, env *layer.Env, machine string) ([]layer.Artifact, error) {
	return p.inner.Render(t, env, machine)
}

// attachedSteps are the up steps of the machines on hyps in an attached
// lab: their containers must run.
func (p vmProvider) attachedSteps(t *topology.Topology, hyps []topology.Hypervisor) []plan.Node {
	var nodes []plan.Node
	for _, m := range t.Machines() {
		for _, h := range hyps {
			if m.Site.Hypervisor != h.Name {
				continue
			}
			check := func(ctx context.Context) (plan.Change, error) {
				running, err := p.l.running(ctx, m.Name)
				if err != nil {
					return plan.Change{}, err
				}
				if !running {
					return plan.Change{}, fmt.Errorf("machine %s: its container does not run, and its VM lived in the simulated hypervisor of the process that brought the lab up; start it (Lab.Start), or bring the lab up again", m.Name)
				}
				return plan.Change{Action: plan.NoOp, Reason: "its container runs (its VM was made by the process that brought the lab up)"}, nil
			}
			nodes = append(nodes, plan.Node{
				ID:     topology.MachineUpID(m.Name),
				Target: fmt.Sprintf("machine %s on %s (lab)", m.Name, h.Name),
				Step: plan.Funcs{InspectFunc: check, ApplyFunc: func(ctx context.Context, _ plan.Change) error {
					_, err := check(ctx)
					return err
				}},
			})
		}
	}
	return nodes
}

// bootStep is a VM's power-on step, followed by its machine's container
// starting once the VM is on.
type bootStep struct {
	l       *Lab
	machine string
	power   plan.Step
}

// Inspect implements plan.Step: the power-on's change, or starting the
// container of a VM that is on but has none.
func (s bootStep) Inspect(ctx context.Context) (plan.Change, error) {
	ch, err := s.power.Inspect(ctx)
	if err != nil || ch.Action != plan.NoOp || plan.Pending(ctx) {
		return ch, err
	}
	exists, err := s.l.containerExists(ctx, s.machine)
	if err != nil {
		return plan.Change{}, err
	}
	if !exists {
		return plan.Change{Action: plan.Update, Reason: "start the machine of the powered-on vm"}, nil
	}
	return ch, nil
}

// Apply implements plan.Step.
func (s bootStep) Apply(ctx context.Context, ch plan.Change) error {
	if err := s.power.Apply(ctx, ch); err != nil {
		return err
	}
	exists, err := s.l.syncVM(ctx, s.machine)
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("machine %s: its vm is not powered on after the power-on step", s.machine)
	}
	return nil
}

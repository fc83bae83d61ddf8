package layer

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
)

// Provider makes the machines of the sites on one kind of hypervisor
// exist and run: the machines layer hands each hypervisor to the provider
// of its kind (topology.Hypervisor.Kind). ESXi is built in (ESXi); a
// program adds another kind, or replaces one, through Env.Providers — the
// lab, for one, wraps ESXi so that a machine's container starts when its
// simulated VM powers on.
//
// Machines of sites without a hypervisor already exist (cloud VMs in real
// regions, bare metal): the machines layer only checks that each answers
// over SSH.
type Provider interface {
	// Steps returns the steps that create and start the machines of the
	// sites on hyps (all of this provider's kind). For every such machine
	// it returns a node with ID topology.MachineUpID(machine), after which
	// the machine runs; the other layers depend on that ID alone.
	Steps(t *topology.Topology, env *Env, hyps []topology.Hypervisor) ([]plan.Node, error)
	// Destroy returns the steps that remove what Steps created on hyps, and
	// nothing else.
	Destroy(t *topology.Topology, env *Env, hyps []topology.Hypervisor) ([]plan.Node, error)
	// Render returns what the provider would make for machine (a VM's
	// settings, its bootstrap data), secrets redacted unless
	// env.ShowSecrets.
	Render(t *topology.Topology, env *Env, machine string) ([]Artifact, error)
}

// Providers returns the built-in providers by hypervisor kind.
func Providers() map[string]Provider {
	return map[string]Provider{topology.HypervisorESXi: ESXi{}}
}

// provider returns the provider of kind: env.Providers first, then the
// built-in ones.
func (env *Env) provider(kind string) (Provider, error) {
	if p, ok := env.Providers[kind]; ok && p != nil {
		return p, nil
	}
	builtin := Providers()
	if p, ok := builtin[kind]; ok {
		return p, nil
	}
	kinds := slices.Sorted(maps.Keys(builtin))
	for k := range env.Providers {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return nil, fmt.Errorf("no provider for hypervisor kind %q; kinds are %v", kind, kinds)
}

// machinesLayer makes every machine of the topology exist and run.
var machinesLayer = Layer{
	Name:    Machines,
	Steps:   machineSteps,
	Destroy: machineDestroySteps,
	Render:  machineRender,
}

// byKind groups t's hypervisors by kind, in topology order, and returns
// each kind's provider.
func byKind(t *topology.Topology, env *Env) ([]string, map[string][]topology.Hypervisor, map[string]Provider, error) {
	var kinds []string
	hyps := map[string][]topology.Hypervisor{}
	provs := map[string]Provider{}
	for i, h := range t.Hypervisors {
		if _, seen := hyps[h.Kind]; !seen {
			p, err := env.provider(h.Kind)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("hypervisors[%d].kind: %w", i, err)
			}
			kinds = append(kinds, h.Kind)
			provs[h.Kind] = p
		}
		hyps[h.Kind] = append(hyps[h.Kind], h)
	}
	return kinds, hyps, provs, nil
}

func machineSteps(t *topology.Topology, env *Env) ([]plan.Node, error) {
	kinds, hyps, provs, err := byKind(t, env)
	if err != nil {
		return nil, err
	}
	var nodes []plan.Node
	for _, k := range kinds {
		ns, err := provs[k].Steps(t, env, hyps[k])
		if err != nil {
			return nil, fmt.Errorf("provider %s: %w", k, err)
		}
		nodes = append(nodes, ns...)
	}
	for _, m := range t.Machines() {
		if m.Site.Hypervisor == "" {
			nodes = append(nodes, existingMachineStep(env, m))
		}
	}
	return nodes, nil
}

func machineDestroySteps(t *topology.Topology, env *Env) ([]plan.Node, error) {
	kinds, hyps, provs, err := byKind(t, env)
	if err != nil {
		return nil, err
	}
	var nodes []plan.Node
	for _, k := range kinds {
		ns, err := provs[k].Destroy(t, env, hyps[k])
		if err != nil {
			return nil, fmt.Errorf("provider %s: %w", k, err)
		}
		nodes = append(nodes, ns...)
	}
	return nodes, nil
}

func machineRender(t *topology.Topology, env *Env, machine string) ([]Artifact, error) {
	m, ok := t.Machine(machine)
	if !ok || m.Site.Hypervisor == "" {
		return nil, nil
	}
	h, _ := t.Hypervisor(m.Site.Hypervisor)
	p, err := env.provider(h.Kind)
	if err != nil {
		return nil, err
	}
	return p.Render(t, env, machine)
}

// existingMachineStep checks that a machine which planetstage does not
// create answers over SSH: a clear failure here, naming the machine, beats
// one in the middle of configuring its router.
func existingMachineStep(env *Env, m topology.Machine) plan.Node {
	return plan.Node{
		ID:     topology.MachineUpID(m.Name),
		Target: fmt.Sprintf("existing machine %s (site %s)", m.Name, m.Site.Name),
		Step: plan.Funcs{
			InspectFunc: func(ctx context.Context) (plan.Change, error) {
				if err := answers(ctx, env, m.Name); err != nil {
					return plan.Change{}, err
				}
				return plan.Change{Action: plan.NoOp, Reason: "answers over SSH"}, nil
			},
			ApplyFunc: func(ctx context.Context, _ plan.Change) error { return answers(ctx, env, m.Name) },
		},
	}
}

// answers runs a no-op command on machine.
func answers(ctx context.Context, env *Env, machine string) error {
	if env.Dial == nil {
		return fmt.Errorf("machine %s: no way to reach it (Env.Dial is nil)", machine)
	}
	r, err := env.Dial(ctx, machine)
	if err == nil {
		err = r.Run(ctx, remote.Cmd{Command: "true"})
	}
	if err != nil {
		return fmt.Errorf("machine %s exists outside planetstage (its site has no hypervisor) and does not answer: %w", machine, err)
	}
	return nil
}

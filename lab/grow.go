package lab

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/planetstage/planetstage/topology"
)

// Grow adds to the running lab the hosts that t has and the lab has not:
// the lab's side of adding a machine to a testbed. t is the lab's topology
// (as given to Up, not Topology()'s adapted copy) with hosts added to
// existing sites; any other difference (a new or changed site, a moved or
// removed machine) is refused, naming it, and nothing changes. A new host
// on a hypervisor site gets its container when the plan powers its VM on
// (Apply, Dial); any other new host starts now. Topology() then returns
// the grown topology, for the plan that joins the new hosts.
//
// Grow may run while other methods of the lab do (an Apply, a Matrix):
// they see the lab before or after it grew, never halfway.
func (l *Lab) Grow(ctx context.Context, t *topology.Topology) error {
	if l.Topology() == nil {
		return fmt.Errorf("lab %q: Grow needs a lab made from a topology (Up)", l.name)
	}
	next := SpecFrom(t)
	if err := next.Validate(); err != nil {
		return fmt.Errorf("lab %q: grow: %w", l.name, err)
	}
	topo, notes := l.adapted(t)
	l.mu.Lock()
	added, err := l.spec.added(next)
	if err != nil || len(added) == 0 {
		l.mu.Unlock()
		if err != nil {
			return fmt.Errorf("lab %q: grow: %w", l.name, err)
		}
		return nil
	}
	l.spec = next
	vmBacked := map[string]bool{}
	for _, m := range added {
		l.machines[m.Name] = m
		if site, ok := t.Site(m.Site); ok && l.followVMs && site.Hypervisor != "" {
			l.vmBacked[m.Name] = true
			vmBacked[m.Name] = true
		}
	}
	l.topo, l.notes, l.given = topo, notes, t
	l.mu.Unlock()
	return l.startHosts(ctx, slices.DeleteFunc(added, func(m Machine) bool { return vmBacked[m.Name] }))
}

// startHosts starts the containers of hosts new to the lab and waits for
// their sshd, after recording their host keys and dropping the SSH
// configurations made before them.
func (l *Lab) startHosts(ctx context.Context, hosts []Machine) error {
	if err := l.keys.writeKnownHosts(l.Machines()); err != nil {
		return err
	}
	l.dialMu.Lock()
	l.pool = nil // its configurations came from the old topology
	l.dialMu.Unlock()
	var errs []error
	for _, m := range hosts {
		if err := l.startMachine(ctx, m); err != nil {
			errs = append(errs, fmt.Errorf("machine %q: %w", m.Name, err))
			continue
		}
		errs = append(errs, waitBanner(ctx, m))
	}
	return errors.Join(errs...)
}

// startAbsent starts the container of every host of an attached lab that
// has none: a host added to the topology file since the lab came up (or
// one whose VM the process that brought the lab up never powered on; with
// that process's simulators gone, the lab plays the VM's start).
// opts are the ones the lab was attached with.
func (l *Lab) startAbsent(ctx context.Context, opts Options) error {
	cs, err := l.d.listContainers(ctx, LabelKey+"="+l.name, machineLabel)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, c := range cs {
		have[c.Labels[machineLabel]] = true
	}
	var absent []Machine
	for _, m := range l.Machines() {
		if !m.Router && !have[m.Name] {
			absent = append(absent, m)
		}
	}
	if len(absent) == 0 {
		return nil
	}
	if opts.Image == "" {
		// The default recipe's image, as Up would use: built again if it
		// was removed since.
		if l.image, err = ensureImage(ctx, l.d, DefaultRecipe(), ImageOptions{Mirror: opts.Mirror, Progress: opts.Progress}); err != nil {
			return err
		}
	}
	return l.startHosts(ctx, absent)
}

// added returns the machines of next that s lacks, or an error when next
// differs from s in anything but added hosts.
func (s Spec) added(next Spec) ([]Machine, error) {
	if next.Name != s.Name || next.Underlay != s.Underlay {
		return nil, fmt.Errorf("name and underlay must stay %q %s", s.Name, s.Underlay)
	}
	have := map[string]Machine{}
	for _, m := range s.Machines() {
		have[m.Name] = m
	}
	var errs []error
	var added []Machine
	nextNames := map[string]bool{}
	for _, m := range next.Machines() {
		nextNames[m.Name] = true
		old, ok := have[m.Name]
		switch {
		case !ok && m.Router:
			errs = append(errs, fmt.Errorf("site %q: a new site (router %q) cannot join a running lab", m.Site, m.Name))
		case !ok:
			added = append(added, m)
		case old.Site != m.Site || old.Address != m.Address || old.Kubernetes != m.Kubernetes || !slices.Equal(old.Addresses, m.Addresses):
			errs = append(errs, fmt.Errorf("machine %q: site, address or role changed; only new hosts can join a running lab", m.Name))
		}
	}
	for name := range have {
		if !nextNames[name] {
			errs = append(errs, fmt.Errorf("machine %q: removed; only new hosts can join a running lab", name))
		}
	}
	return added, errors.Join(errs...)
}

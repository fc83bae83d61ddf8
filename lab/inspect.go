package lab

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/vmware/govmomi/vim25/types"

	"github.com/planetstage/planetstage/inventory"
	"github.com/planetstage/planetstage/layer"
)

// Inspect returns the inventory of the lab's topology (inventory.Of, the
// tunnels pointed where the lab points them) with what runs now: each
// machine's container state from Docker, the power state of each VM in the
// simulated hypervisors, and the WAN relay with whether it runs. A lab
// attached from another process has no simulators (see Attach): its VMs
// are inventory.VMUnknown, and a note says why.
func (l *Lab) Inspect(ctx context.Context) (inventory.Inventory, error) {
	t := l.Topology()
	if t == nil {
		return inventory.Inventory{}, fmt.Errorf("lab %q: no topology to inspect (made from a Spec)", l.name)
	}
	var remotes map[layer.RelayEnd]netip.AddrPort
	if l.relay != nil {
		remotes = l.relay.Remotes
	}
	inv, err := inventory.Of(t, remotes)
	if err != nil {
		return inventory.Inventory{}, err
	}
	inv.Source, inv.Notes = inventory.FromLab, l.Notes()
	containers, err := l.containerStates(ctx)
	if err != nil {
		return inventory.Inventory{}, fmt.Errorf("lab %q: %w", l.name, err)
	}
	power := map[string]map[string]types.VirtualMachinePowerState{} // by hypervisor
	unknown := false
	for i := range inv.Machines {
		m := &inv.Machines[i]
		if m.Router != "" && l.routerRunOf(m.Name).Kind == RouterVyOSStandin {
			m.Router += " stand-in" // not VyOS: say so wherever it shows
		}
		m.Container = containers[m.Name]
		if m.Container == "" {
			m.Container = inventory.ContainerAbsent
		}
		if m.Hypervisor == "" {
			continue
		}
		sim := l.sims[m.Hypervisor]
		if sim == nil {
			m.VM, unknown = inventory.VMUnknown, true
			continue
		}
		if power[m.Hypervisor] == nil {
			if power[m.Hypervisor], err = sim.vmPower(ctx); err != nil {
				return inventory.Inventory{}, fmt.Errorf("lab %q: %w", l.name, err)
			}
		}
		m.VM = vmState(power[m.Hypervisor], m.Name)
	}
	if unknown {
		inv.Notes = append(inv.Notes, "the VMs' power states are unknown: the simulated hypervisors lived in the process that brought the lab up")
	}
	if r := l.relay; r != nil {
		ir := &inventory.Relay{Bind: r.Bind, Running: l.RelayRunning()}
		ir.FirstPort, ir.LastPort = r.Ports()
		for _, p := range r.Paths {
			ir.Paths = append(ir.Paths, inventory.PathOf(p))
		}
		inv.Relay = ir
	}
	return inv, nil
}

// machineLabel labels a machine's container with the machine's name.
const machineLabel = "io.planetstage.machine"

// containerStates asks Docker, in one call, for the state of every
// machine's container by machine name; a machine without one is missing.
func (l *Lab) containerStates(ctx context.Context) (map[string]inventory.ContainerState, error) {
	cs, err := l.d.listContainers(ctx, LabelKey+"="+l.name, machineLabel)
	if err != nil {
		return nil, err
	}
	states := map[string]inventory.ContainerState{}
	for _, c := range cs {
		name := c.Labels[machineLabel]
		states[name] = inventory.ContainerStopped
		if c.State == "running" {
			states[name] = inventory.ContainerRunning
		}
	}
	return states, nil
}

func vmState(power map[string]types.VirtualMachinePowerState, name string) inventory.VMState {
	switch s, ok := power[name]; {
	case !ok:
		return inventory.VMAbsent
	case s == types.VirtualMachinePowerStatePoweredOn:
		return inventory.VMOn
	default:
		return inventory.VMOff
	}
}

// Package testbed is a topology's machines as one thing to act on, whether
// they are the local lab's containers (package lab) or the hardware the
// topology file names (package layer, over SSH and the hypervisors' APIs).
//
// A program that offers both — a command line with a --lab flag, an
// experiment harness that runs against the lab in its tests and against
// hardware for the paper — opens a Testbed once and calls the same
// methods either way: Plan, Apply, Destroy, MeasureWAN, Bootstrapper,
// Inventory, SSHCommand, Matrix, StopMachine and StartMachine, and the
// thesis's experiments AddNode and LoseControlPlane: the same checks in
// both, only the machinery differs. What only a lab has (its WAN relay's paths, its
// containers) is reached through Lab.
//
//	tb, err := testbed.Open(ctx, t, testbed.Options{Lab: true, Progress: os.Stdout})
//	if err != nil { ... }
//	defer tb.Close(ctx)
//	res, err := tb.Apply(ctx, testbed.ApplyOptions{Hook: plan.ProgressFor(os.Stdout)})
package testbed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/planetstage/planetstage/inventory"
	"github.com/planetstage/planetstage/kubeadm"
	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/lab/k8snode"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/reach"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// Options say which testbed to open and how.
type Options struct {
	// Lab acts on the topology's local lab instead of its hardware.
	Lab bool
	// StateDir keeps what the plan generates on hardware (keys, the
	// cluster's CAs); empty means topology.DefaultStateDir. The lab keeps
	// its own under LabStateDir.
	StateDir string
	// LabStateDir is the lab's state directory (lab.Options.StateDir);
	// empty means lab.DefaultStateDir.
	LabStateDir string
	// RelayCommand runs the lab's WAN relay as a process of its own, so
	// that the tunnels keep their latency after this program exits (see
	// lab.SelfRelay); nil runs it in this process.
	RelayCommand lab.RelayCommand
	// Kubernetes makes a lab that Apply brings up able to run the cluster
	// layer: it builds (or finds) the Kubernetes node image first, which
	// takes long the first time. Apply sets it by itself when the cluster
	// layer is among the layers it applies.
	Kubernetes bool
	// Log receives warnings and debug detail; nil discards them.
	Log *slog.Logger
	// Progress, when not nil, receives the lab's phases and the node
	// image's build as lines of text, and the lab's notes (what it runs
	// differently from hardware) before an apply.
	Progress io.Writer
}

// Testbed is a topology's machines: its lab, or its hardware.
type Testbed struct {
	t    *topology.Topology
	opts Options
	env  *layer.Env // hardware only
	lab  *lab.Lab   // the lab once attached or brought up
}

// Open returns the testbed of t. On hardware it opens the plan state and
// makes SSH and hypervisor sessions as they are needed; in the lab it
// reaches nothing yet: Apply brings the lab up when it is not running, and
// every other method attaches to the running one. Close it when done.
func Open(ctx context.Context, t *topology.Topology, o Options) (*Testbed, error) {
	tb := &Testbed{t: t, opts: o}
	if o.Lab {
		return tb, nil
	}
	env, err := layer.OpenEnv(t, o.StateDir, o.Log)
	if err != nil {
		return nil, err
	}
	tb.env = env
	return tb, nil
}

// FromLab is the testbed of a lab the program already runs (lab.Up in a
// test, or a harness that starts its lab itself). o.Lab is implied; o's
// lab options apply should Destroy and Apply bring it up again.
func FromLab(l *lab.Lab, o Options) *Testbed {
	o.Lab = true
	return &Testbed{t: l.Topology(), opts: o, lab: l}
}

// Close ends the sessions the testbed opened. The lab keeps running.
func (tb *Testbed) Close(ctx context.Context) error {
	if tb.env != nil {
		return tb.env.Close(ctx)
	}
	return nil
}

// IsLab says whether the testbed is the local lab.
func (tb *Testbed) IsLab() bool { return tb.opts.Lab }

// Topology is the topology as the testbed runs it: on hardware the file's;
// in a running lab the lab's (addresses it chose, machines it added).
func (tb *Testbed) Topology() *topology.Topology {
	if tb.lab != nil {
		return tb.lab.Topology()
	}
	return tb.t
}

// Env is the hardware's layer environment; nil in the lab.
func (tb *Testbed) Env() *layer.Env { return tb.env }

// Lab attaches to the running lab (once) and returns it, for what only a
// lab does (its relay's paths, stopping a container, growing it). The
// error wraps lab.ErrNotUp when there is none (Apply brings one up); on
// hardware it is an error.
func (tb *Testbed) Lab(ctx context.Context) (*lab.Lab, error) {
	if !tb.opts.Lab {
		return nil, errors.New("the testbed is the hardware, not the lab")
	}
	if tb.lab != nil {
		return tb.lab, nil
	}
	l, err := lab.Attach(ctx, tb.t, tb.labOptions(tb.opts.Kubernetes))
	if err != nil {
		return nil, err // lab.ErrNotUp when there is none: Apply brings it up
	}
	tb.lab = l
	return l, nil
}

func (tb *Testbed) labOptions(kubernetes bool) lab.Options {
	o := lab.Options{StateDir: tb.opts.LabStateDir, Log: tb.opts.Log, RelayCommand: tb.opts.RelayCommand, Kubernetes: kubernetes}
	if w := tb.opts.Progress; w != nil {
		o.Progress = lab.Progress(w)
		o.NodeImageOptions = k8snode.Options{Hook: plan.ProgressFor(w)} // every stage and compile as it goes
	}
	return o
}

// PlanOptions tune Plan.
type PlanOptions struct {
	// Layers are the layers to plan; empty means all (the lab: its
	// DefaultLayers).
	Layers []string
	// Offline plans every step as if nothing existed, reaching no machine
	// and no hypervisor: for reviewing a topology. Hardware only.
	Offline bool
	// Set is what the plan is built from; nil means layer.Default().
	Set *layer.Set
	// Parallelism bounds the inspections run at once; 0 is plan's default.
	Parallelism int
}

// Plan inspects the testbed and says what an apply would change. It
// changes nothing, not even the state: no key is written.
func (tb *Testbed) Plan(ctx context.Context, o PlanOptions) (*plan.Result, error) {
	if tb.opts.Lab {
		if o.Offline {
			return nil, errors.New("an offline plan reaches no machine: it is the hardware's (the lab's plan inspects its containers)")
		}
		l, err := tb.Lab(ctx)
		if err != nil {
			return nil, err
		}
		return l.Apply(ctx, lab.ApplyOptions{Layers: o.Layers, Set: o.Set, DryRun: true, Parallelism: o.Parallelism})
	}
	env := *tb.env
	env.State = env.State.DryRun()
	g, err := orDefault(o.Set).Plan(tb.t, &env, o.Layers...)
	if err != nil {
		return nil, err
	}
	if o.Offline {
		return plan.Offline(g)
	}
	return plan.Walk(ctx, g, plan.Options{Parallelism: o.Parallelism})
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Layers are the layers to apply; empty means all (the lab: its
	// DefaultLayers, which leave out the cluster unless the lab runs the
	// node image).
	Layers []string
	// Set is what the plan is built from; nil means layer.Default(). A
	// harness adds its own layers to a Set and passes it here.
	Set *layer.Set
	// Hook receives the walk's progress (plan.ProgressFor prints it).
	Hook plan.Hook
	// Parallelism bounds the steps run at once; 0 is plan's default.
	Parallelism int
}

// Apply brings the testbed to the topology. In the lab it first brings the
// lab up when it is not running (with the Kubernetes node image when the
// cluster layer is asked for), and returns only once the tunnels it built
// carry traffic between every pair of machines (lab.Lab.Apply). On
// hardware it walks the plan.
func (tb *Testbed) Apply(ctx context.Context, o ApplyOptions) (*plan.Result, error) {
	if tb.opts.Lab {
		l, err := tb.upOrAttach(ctx, o.Layers)
		if err != nil {
			return nil, err
		}
		return l.Apply(ctx, lab.ApplyOptions{Layers: o.Layers, Set: o.Set, Hook: o.Hook, Parallelism: o.Parallelism})
	}
	g, err := orDefault(o.Set).Plan(tb.t, tb.env, o.Layers...)
	if err != nil {
		return nil, err
	}
	return plan.Walk(ctx, g, plan.Options{Apply: true, Parallelism: o.Parallelism, Hook: o.Hook})
}

// upOrAttach brings the lab up, or attaches to it when it runs, and the
// first time writes its notes to Progress.
func (tb *Testbed) upOrAttach(ctx context.Context, layers []string) (*lab.Lab, error) {
	if tb.lab != nil {
		return tb.lab, nil
	}
	kube := tb.opts.Kubernetes || tb.t.Cluster != nil && slices.Contains(layers, layer.Cluster)
	l, err := lab.UpOrAttach(ctx, tb.t, tb.labOptions(kube))
	if err != nil {
		return nil, err
	}
	tb.lab = l
	if w := tb.opts.Progress; w != nil {
		for _, n := range l.Notes() {
			fmt.Fprintf(w, " • %s\n", n)
		}
	}
	return l, nil
}

// DestroyOptions tune Destroy.
type DestroyOptions struct {
	// Layers are the layers to remove (hardware only; the lab is removed
	// whole); empty means all.
	Layers []string
	// Hook receives the walk's progress.
	Hook plan.Hook
	// Parallelism bounds the steps run at once; 0 is plan's default.
	Parallelism int
	// DryRun inspects and reports what would be removed, and removes
	// nothing: what a command shows before it asks. Hardware only.
	DryRun bool
	// Set is what the plan is built from; nil means layer.Default().
	// Hardware only: the lab is removed whole.
	Set *layer.Set
}

// Destroy removes what Apply made. The lab goes whole: its containers,
// networks and WAN relay (lab.Down; the result is nil). On hardware it
// walks the destroy plan, which touches only objects tagged as this
// topology's.
func (tb *Testbed) Destroy(ctx context.Context, o DestroyOptions) (*plan.Result, error) {
	if tb.opts.Lab {
		if len(o.Layers) > 0 {
			return nil, fmt.Errorf("layers %v: the lab is removed whole; leave out the layers", o.Layers)
		}
		if o.DryRun {
			return nil, errors.New("the lab is removed whole: there is no plan to show")
		}
		tb.lab = nil
		return nil, lab.Down(ctx, tb.t.Name, lab.Options{StateDir: tb.opts.LabStateDir})
	}
	env := *tb.env
	if o.DryRun {
		env.State = env.State.DryRun()
	}
	g, err := orDefault(o.Set).DestroyPlan(tb.t, &env, o.Layers...)
	if err != nil {
		return nil, err
	}
	return plan.Walk(ctx, g, plan.Options{Apply: !o.DryRun, Parallelism: o.Parallelism, Hook: o.Hook})
}

// Bootstrapper is the kubeadm flow of the topology's cluster on this
// testbed: join nodes, deploy workloads, read the kubeconfig.
func (tb *Testbed) Bootstrapper(ctx context.Context) (*kubeadm.Bootstrapper, error) {
	if tb.opts.Lab {
		l, err := tb.Lab(ctx)
		if err != nil {
			return nil, err
		}
		return l.Bootstrapper()
	}
	return layer.ClusterBootstrapper(tb.t, tb.env)
}

// MeasureWAN measures the running testbed's tunnels (and with o.Paths its
// site pairs end to end) against latency, or the topology's own latency
// model when latency is nil. The lab counts its routers' CPU from their
// cgroups and needs its WAN relay running.
func (tb *Testbed) MeasureWAN(ctx context.Context, o layer.MeasureOptions, latency *wan.Model) (wan.Report, error) {
	if tb.opts.Lab {
		l, err := tb.Lab(ctx)
		if err != nil {
			return wan.Report{}, err
		}
		return l.MeasureWAN(ctx, o, latency)
	}
	env := *tb.env
	if latency != nil {
		env.Latency = latency
	}
	return layer.MeasureWAN(ctx, tb.t, &env, o)
}

// hardwarePingWait is how long, on hardware, a ping waits for a reply: the
// real WAN's far pairs, through two hubs, stay well under it.
const hardwarePingWait = 3 * time.Second

// Matrix pings every machine from every other, from inside them (package
// reach), and returns each ordered pair with its RTT. The lab runs the
// pings through its containers; hardware over SSH, as the topology's ssh
// section says (host keys checked, a host through its site's router), so
// a check of the matrix means the same in both. On hardware a machine that
// SSH cannot reach is an error naming it.
func (tb *Testbed) Matrix(ctx context.Context) (reach.Matrix, error) {
	if tb.opts.Lab {
		l, err := tb.Lab(ctx)
		if err != nil {
			return reach.Matrix{}, err
		}
		return l.Matrix(ctx)
	}
	var targets []reach.Target
	for _, m := range tb.t.Machines() {
		targets = append(targets, reach.Target{Name: m.Name, Address: m.Address})
	}
	return reach.Measure(ctx, targets, reach.Options{Run: tb.env.Dial, Wait: hardwarePingWait})
}

// Inventory lists the machines, their addresses, roles and tunnels. The
// lab's says what each container and VM runs; on hardware it is the
// model's, from the file, and contacts no machine.
func (tb *Testbed) Inventory(ctx context.Context) (inventory.Inventory, error) {
	if !tb.opts.Lab {
		return inventory.Of(tb.t, nil)
	}
	l, err := tb.Lab(ctx)
	if err != nil {
		return inventory.Inventory{}, err
	}
	return l.Inspect(ctx)
}

// SSHCommand is the OpenSSH command line that runs command (a shell when
// empty) on machine, with host keys checked: on hardware with the
// topology's key and known_hosts and the host keys pinned for the VMs the
// machines layer made, a host through its site's router; in the lab with
// the lab's key.
func (tb *Testbed) SSHCommand(ctx context.Context, machine string, command ...string) ([]string, error) {
	if !tb.opts.Lab {
		pool := layer.NewSSHPool(tb.t, nil)
		var err error
		if pool.Pinned, err = tb.env.State.Path(layer.PinnedKnownHostsFile); err != nil {
			return nil, err
		}
		return pool.SSHCommand(machine, command...)
	}
	l, err := tb.Lab(ctx)
	if err != nil {
		return nil, err
	}
	return l.SSHCommand(machine, command...)
}

func orDefault(s *layer.Set) *layer.Set {
	if s == nil {
		return layer.Default()
	}
	return s
}

package lab

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/reach"
	"github.com/planetstage/planetstage/topology"
)

// planStateDir is where, under the lab's state directory, the plan keeps
// what it generates (VPN keys, the cluster's CAs and tokens). Up empties it:
// its machines are new.
const planStateDir = "plan"

// DefaultConverge bounds how long Apply waits, after configuring routers,
// until every machine reaches every other; a lab of more than 20 tunnels
// gets 3 s more per tunnel (a matrix of 100 machines alone takes tens of
// seconds on two cores).
const DefaultConverge = time.Minute

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Layers are the layers to apply (the plan orders their steps; steps of
	// other layers are taken as done). Empty means DefaultLayers.
	Layers []string
	// Set is what the plan is built from; nil means layer.Default(). A
	// harness adds its own layers to a Set and passes it here.
	Set *layer.Set
	// State keeps what the plan generates; nil means State().
	State *topology.State
	// DryRun inspects and reports what would change, and changes nothing,
	// not even the state (topology.State.DryRun).
	DryRun bool
	// Hook receives the walk's progress (plan.Progress prints it).
	Hook plan.Hook
	// Parallelism bounds the steps run at once; 0 is plan's default.
	Parallelism int
	// Converge bounds the wait, once the routers layer is applied, until
	// every machine reaches every other: an apply returns when what it
	// built carries traffic. 0 means DefaultConverge (longer for a large
	// lab); negative skips the wait.
	Converge time.Duration
}

// DefaultLayers are the layers Apply applies when none are named: all of
// set's (nil: layer.Default()) but the cluster, which only a lab with the
// Kubernetes node image (Options.Kubernetes) can run.
func (l *Lab) DefaultLayers(set *layer.Set) []string {
	if set == nil {
		set = layer.Default()
	}
	return slices.DeleteFunc(set.Names(), func(n string) bool { return n == layer.Cluster && l.nodeImg == "" })
}

// State is the plan state of the lab's topology, in the lab's state
// directory; Up starts it empty.
func (l *Lab) State() (*topology.State, error) {
	if l.state == nil {
		st, err := topology.OpenState(filepath.Join(l.stateDir, planStateDir))
		if err != nil {
			return nil, fmt.Errorf("lab %q: %w", l.name, err)
		}
		l.state = st
	}
	return l.state, nil
}

// Apply plans the layers against the lab's topology and walks the plan,
// as on hardware: the machines layer creates the VMs in the simulated
// hypervisors, and each VM's container starts as its VM powers on. When
// the routers layer is among those applied and the walk changed
// something, Apply returns once every machine reaches every other (or
// fails, naming the pairs that do not); a walk that changed nothing has
// already probed every tunnel. A topology with latency gets its WAN relay (re)started first.
func (l *Lab) Apply(ctx context.Context, o ApplyOptions) (*plan.Result, error) {
	t := l.Topology()
	if t == nil {
		return nil, fmt.Errorf("lab %q: Apply needs a lab made from a topology (Up or Attach)", l.name)
	}
	set := o.Set
	if set == nil {
		set = layer.Default()
	}
	names := o.Layers
	if len(names) == 0 {
		names = l.DefaultLayers(set)
	}
	names, err := set.Select(names...)
	if err != nil {
		return nil, err
	}
	state := o.State
	if state == nil {
		if state, err = l.State(); err != nil {
			return nil, err
		}
	}
	if o.DryRun {
		state = state.DryRun() // keys a plan makes are not written
	}
	if !o.DryRun && l.relay != nil && !l.relayUpToDate() {
		if err := l.phaseDetail(PhaseRelay, "again", func() error { return l.startRelay(ctx) }); err != nil {
			return nil, err
		}
	}
	g, err := set.Plan(t, l.Env(state), names...)
	if err != nil {
		return nil, err
	}
	res, err := plan.Walk(ctx, g, plan.Options{Apply: !o.DryRun, Parallelism: o.Parallelism, Hook: o.Hook})
	if err != nil || o.DryRun || !slices.Contains(names, layer.Routers) || t.VPN == nil || o.Converge < 0 {
		return res, err
	}
	// A walk that changed nothing found every tunnel carrying traffic
	// already (each has a probe step): the whole matrix again would make
	// a no-op apply of a large lab cost half of the first.
	if s := res.Summary(); s.Created+s.Updated+s.Deleted == 0 {
		return res, nil
	}
	return res, l.phase(PhaseConverge, func() error { return l.converge(ctx, o.Converge) })
}

// converge waits until every machine reaches every other.
func (l *Lab) converge(ctx context.Context, bound time.Duration) error {
	if bound == 0 {
		bound = DefaultConverge + 3*time.Second*time.Duration(max(0, l.Topology().TunnelCount()-20))
	}
	wctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	m, err := l.MatrixUntil(wctx, func(m reach.Matrix) bool { return len(m.Unreachable()) == 0 })
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := m.CheckConnected(); err != nil {
		return fmt.Errorf("tunnels not converged after %s: %w", bound, err)
	}
	return nil
}

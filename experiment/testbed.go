package experiment

import (
	"context"
	"fmt"
	"time"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// Testbed is what a run acts on and measures: a running lab (ForLab), a
// testbed.Testbed on the lab or on hardware (ForTestbed), or an
// implementation of a harness's own. A pair's sites are given
// in either order.
type Testbed interface {
	// Topology is the topology as the testbed runs it, defaults filled.
	Topology() *topology.Topology
	// Dial reaches a machine (a router, for the probes).
	Dial(ctx context.Context, machine string) (remote.Runner, error)
	// Shape is the one-way shape each direction of the tunnel between
	// sites a and b has now (a to b first).
	Shape(a, b string) (aToB, bToA wan.Shape, err error)
	// SetShape gives both directions of the tunnel between a and b the
	// one-way shape s, while the testbed runs.
	SetShape(ctx context.Context, a, b string, s wan.Shape) error
	// SetCut cuts the tunnel between a and b (nothing crosses it) or
	// restores it.
	SetCut(ctx context.Context, a, b string, cut bool) error
	// StopMachine and StartMachine stop and start a machine.
	StopMachine(ctx context.Context, machine string) error
	StartMachine(ctx context.Context, machine string) error
	// Facts are what the results folder records about the testbed
	// besides the topology: versions, the relay's seed.
	Facts(ctx context.Context) map[string]string
}

// ForLab is the Testbed of a running lab. Its tunnels' shapes and cuts
// change on the lab's WAN relay (lab.Lab.RelayPath), which needs the relay
// to run in this process: a lab whose relay runs as a process of its own
// (lab.Options.RelayCommand) can stop and start machines and be probed,
// but SetShape and SetCut return an error saying so.
func ForLab(l *lab.Lab) Testbed { return labTestbed{l} }

type labTestbed struct{ l *lab.Lab }

func (b labTestbed) Topology() *topology.Topology { return b.l.Topology() }

func (b labTestbed) Dial(ctx context.Context, machine string) (remote.Runner, error) {
	return b.l.Dial(ctx, machine)
}

func (b labTestbed) Shape(x, y string) (wan.Shape, wan.Shape, error) {
	p, err := b.l.RelayPath(x, y)
	if err != nil {
		return wan.Shape{}, wan.Shape{}, err
	}
	ab, ba := p.Shape()
	if wan.NewPair(x, y).A != x { // the path's A is the pair's first site
		ab, ba = ba, ab
	}
	return ab, ba, nil
}

func (b labTestbed) SetShape(_ context.Context, x, y string, s wan.Shape) error {
	p, err := b.l.RelayPath(x, y)
	if err != nil {
		return err
	}
	return p.SetShape(s, s)
}

func (b labTestbed) SetCut(_ context.Context, x, y string, cut bool) error {
	p, err := b.l.RelayPath(x, y)
	if err != nil {
		return err
	}
	p.SetCut(cut)
	return nil
}

func (b labTestbed) StopMachine(ctx context.Context, machine string) error {
	return b.l.StopMachine(ctx, machine, 2*time.Second)
}

func (b labTestbed) StartMachine(ctx context.Context, machine string) error {
	return b.l.StartMachine(ctx, machine)
}

func (b labTestbed) Facts(ctx context.Context) map[string]string {
	f := hostFacts(ctx)
	f["testbed"] = "lab " + b.l.Name()
	if b.l.NodeImage() != "" {
		clusterFacts(f)
	}
	tunnelFacts(ctx, b.l.Topology(), b.l.Dial, f)
	if r := b.l.Relay(); r != nil && len(r.Paths) > 0 {
		// PlanRelay seeds path i with seed+i; the first path's is the seed.
		f["relay.seed"] = fmt.Sprint(r.Paths[0].Seed)
		f["relay.bind"] = r.Bind.String()
	}
	return f
}

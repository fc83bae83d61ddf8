package experiment

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/testbed"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// ForTestbed is the Testbed of tb: in the lab, ForLab's; on hardware, one
// that acts on the machines themselves:
//
//   - SetCut drops everything through the tunnel's interface on both
//     routers (layer.CutTunnel), and removes those rules to heal;
//   - SetShape puts netem on both routers' tunnel interface
//     (layer.ShapeTunnel), which needs the netem qdisc in their kernels;
//   - StopMachine and StartMachine power a VM off and on through its
//     hypervisor (testbed's StopMachine and StartMachine, which returns
//     once the machine answers over SSH); a machine outside any hypervisor is
//     refused by name;
//   - Shape reports what the topology's latency model put on a tunnel
//     and what SetShape set since, not a reading of the routers.
//
// Cutting and shaping work on Linux routers; a tunnel with a VyOS router
// at either end is refused, naming it.
func ForTestbed(ctx context.Context, tb *testbed.Testbed) (Testbed, error) {
	if tb.IsLab() {
		l, err := tb.Lab(ctx)
		if err != nil {
			return nil, err
		}
		return ForLab(l), nil
	}
	env := *tb.Env()
	t := tb.Topology()
	if env.Latency == nil {
		env.Latency = t.LatencyModel()
	}
	h := &hardwareTestbed{tb: tb, t: t, env: &env, shapes: map[wan.Pair][2]wan.Shape{}}
	matrix, _, err := layer.LatencyMatrix(t, &env)
	if err != nil {
		return nil, err
	}
	for _, e := range matrix {
		a, b := e.Link.Sides()
		h.shapes[e.Pair] = [2]wan.Shape{a, b}
	}
	return h, nil
}

type hardwareTestbed struct {
	tb  *testbed.Testbed
	t   *topology.Topology
	env *layer.Env

	mu sync.Mutex
	// shapes holds each pair's one-way shapes, the pair's first site's
	// direction first.
	shapes map[wan.Pair][2]wan.Shape
}

func (h *hardwareTestbed) Topology() *topology.Topology { return h.t }

func (h *hardwareTestbed) Dial(ctx context.Context, machine string) (remote.Runner, error) {
	return h.env.Dial(ctx, machine)
}

func (h *hardwareTestbed) Shape(x, y string) (wan.Shape, wan.Shape, error) {
	if _, ok := h.t.Site(x); !ok {
		return wan.Shape{}, wan.Shape{}, fmt.Errorf("no site %q", x)
	}
	if _, ok := h.t.Site(y); !ok {
		return wan.Shape{}, wan.Shape{}, fmt.Errorf("no site %q", y)
	}
	p := wan.NewPair(x, y)
	h.mu.Lock()
	s := h.shapes[p]
	h.mu.Unlock()
	if p.A != x {
		return s[1], s[0], nil
	}
	return s[0], s[1], nil
}

func (h *hardwareTestbed) SetShape(ctx context.Context, x, y string, s wan.Shape) error {
	if err := layer.ShapeTunnel(ctx, h.t, h.env, x, y, s); err != nil {
		return err
	}
	h.mu.Lock()
	h.shapes[wan.NewPair(x, y)] = [2]wan.Shape{s, s}
	h.mu.Unlock()
	return nil
}

func (h *hardwareTestbed) SetCut(ctx context.Context, x, y string, cut bool) error {
	return layer.CutTunnel(ctx, h.t, h.env, x, y, cut)
}

func (h *hardwareTestbed) StopMachine(ctx context.Context, machine string) error {
	return h.tb.StopMachine(ctx, machine)
}

func (h *hardwareTestbed) StartMachine(ctx context.Context, machine string) error {
	return h.tb.StartMachine(ctx, machine)
}

func (h *hardwareTestbed) Facts(ctx context.Context) map[string]string {
	f := hostFacts(ctx)
	// This machine only drives the testbed: its kernel is not the one
	// the routers run, and Docker plays no part.
	f["controller.kernel"] = f["kernel"]
	delete(f, "kernel")
	delete(f, "docker")
	f["testbed"] = "hardware " + h.t.Name
	tunnelFacts(ctx, h.t, h.env.Dial, f)
	if len(h.t.Sites) > 0 {
		router := h.t.Sites[0].Router.Name
		f["router.kernel"] = unknown
		if r, err := h.env.Dial(ctx, router); err == nil {
			if out, err := remote.Output(ctx, r, "uname -r"); err == nil && strings.TrimSpace(out) != "" {
				f["router.kernel"] = strings.TrimSpace(out) + " (" + router + ")"
			}
		}
	}
	return f
}

package testbed

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/planetstage/planetstage/kubeadm"
	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
)

// StopMachine turns machine off as a crash or a pulled plug would. In the
// lab its container stops; on hardware its hypervisor powers its VM off
// (layer.Power), which needs a machine of a site with a hypervisor: any
// other is refused with layer.ErrNoPowerSwitch.
func (tb *Testbed) StopMachine(ctx context.Context, machine string) error {
	if tb.opts.Lab {
		l, err := tb.Lab(ctx)
		if err != nil {
			return err
		}
		return l.Stop(ctx, machine)
	}
	return layer.Power(ctx, tb.t, tb.env, machine, false)
}

// BootWait bounds how long StartMachine waits, on hardware, for a VM it
// powered on to answer over SSH.
const BootWait = 5 * time.Minute

// StartMachine turns machine on again and returns once it answers over SSH:
// in the lab its container starts; on hardware its hypervisor powers its VM
// on and the machine is asked, as the topology's ssh section says, until
// it answers or BootWait has passed.
func (tb *Testbed) StartMachine(ctx context.Context, machine string) error {
	if tb.opts.Lab {
		l, err := tb.Lab(ctx)
		if err != nil {
			return err
		}
		return l.Start(ctx, machine)
	}
	if err := layer.Power(ctx, tb.t, tb.env, machine, true); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, BootWait)
	defer cancel()
	var last error
	for {
		// Each Dial's runner retries its connection (remote.BootRetry);
		// a runner whose connection the power-off broke dials again.
		r, err := tb.env.Dial(wctx, machine)
		if err == nil {
			if _, err = remote.Output(wctx, r, "true"); err == nil {
				return nil
			}
		}
		last = err
		select {
		case <-wctx.Done():
			return fmt.Errorf("machine %s: powered on, but no answer over SSH within %s: %w", machine, BootWait, errors.Join(last, ctx.Err()))
		case <-time.After(2 * time.Second):
		}
	}
}

// NodeAddition is the thesis's "add a node" as data: a host added to the
// running cluster, timed from the changed topology to its node Ready.
type NodeAddition struct {
	Node    string  `json:"node"`
	Site    string  `json:"site"`
	Seconds float64 `json:"seconds"`
	// Ready says whether the cluster lists the node Ready afterwards.
	Ready bool `json:"ready"`
	// Result is the walk that added it (nil when none began).
	Result *plan.Result `json:"-"`
}

// AddNode grows the running testbed by host h in site and applies o's
// layers (empty: all of them, the cluster's included, which joins h) to
// the grown topology, then asks the cluster whether h is a Ready node. In
// the lab the lab takes the machine in first (lab.Lab.AddHost); on
// hardware the machines layer creates and powers on its VM, as for any
// other. The testbed runs the grown topology from then on, also when the
// apply failed (a second AddNode of the same host, or an Apply, repairs).
// The topology file is not changed: add the host there too to keep it.
// The addition is returned with what failed.
func (tb *Testbed) AddNode(ctx context.Context, site string, h topology.Host, o ApplyOptions) (NodeAddition, error) {
	add := NodeAddition{Node: h.Name, Site: site}
	start := time.Now()
	res, err := tb.addHost(ctx, site, h, o)
	add.Result, add.Seconds = res, seconds(time.Since(start))
	if err != nil {
		return add, fmt.Errorf("add node %s: %w", h.Name, err)
	}
	b, err := tb.Bootstrapper(ctx)
	if err != nil {
		return add, err
	}
	nodes, _, err := b.Nodes(ctx)
	add.Ready = slices.ContainsFunc(nodes, func(n kubeadm.NodeStatus) bool { return n.Name == h.Name && n.Ready })
	if err != nil {
		return add, fmt.Errorf("add node %s: %w", h.Name, err)
	}
	if !add.Ready {
		return add, fmt.Errorf("add node %s: the apply succeeded, but the cluster does not list it Ready", h.Name)
	}
	return add, nil
}

func (tb *Testbed) addHost(ctx context.Context, site string, h topology.Host, o ApplyOptions) (*plan.Result, error) {
	if tb.opts.Lab {
		l, err := tb.Lab(ctx)
		if err != nil {
			return nil, err
		}
		_, res, err := l.AddHost(ctx, nil, site, h, lab.ApplyOptions{Layers: o.Layers, Set: o.Set, Hook: o.Hook, Parallelism: o.Parallelism})
		return res, err
	}
	grown, err := tb.t.WithHost(site, h)
	if err != nil {
		return nil, err
	}
	if err := grown.Validate(); err != nil {
		return nil, err
	}
	// The SSH pool knows the machines it was made for: a new one for the
	// grown topology, on the same state.
	old := tb.env
	tb.t, tb.env = grown, layer.NewEnv(grown, old.State, tb.opts.Log)
	if err := old.Close(ctx); err != nil && tb.opts.Log != nil {
		tb.opts.Log.Warn("closing the sessions of the topology before it grew", "error", err)
	}
	return tb.Apply(ctx, o)
}

// ControlPlaneLoss is what LoseControlPlane saw.
type ControlPlaneLoss struct {
	// Master is the control plane that was stopped.
	Master string `json:"master"`
	// APIReachable says whether the API answered through the load
	// balancer while it was down, and Via from which control plane.
	APIReachable bool   `json:"apiReachable"`
	Via          string `json:"via"`
	// RecoverSeconds is the time from its start to its own API server
	// (and etcd member) ready again.
	RecoverSeconds float64 `json:"recoverSeconds"`
	Recovered      bool    `json:"recovered"`
}

// APIWait bounds how long LoseControlPlane asks the API through the load
// balancer with a master down: HAProxy takes fall × inter (6 s) to mark
// it down, and retries with redispatch carry requests over meanwhile.
const APIWait = 30 * time.Second

// LoseControlPlane is the thesis's "lose a master": it stops control plane
// master (StopMachine: in the lab its container, on hardware its VM's
// power), asks the API through the load balancer from another control
// plane as a client would (up to APIWait), starts the machine again
// (StartMachine), applies the cluster layer, which repairs what the
// restart lost (the pod network's devices), and waits until the master's
// own API server and etcd member are ready. The same steps and checks run
// in the lab and on hardware. The loss is returned with what failed.
func (tb *Testbed) LoseControlPlane(ctx context.Context, master string, o ApplyOptions) (ControlPlaneLoss, error) {
	loss := ControlPlaneLoss{Master: master}
	b, err := tb.Bootstrapper(ctx)
	if err != nil {
		return loss, err
	}
	if !slices.ContainsFunc(b.Cluster.ControlPlanes, func(n kubeadm.Node) bool { return n.Name == master }) {
		return loss, fmt.Errorf("lose a master: %q is not a control plane of the cluster", master)
	}
	if len(b.Cluster.ControlPlanes) < 3 {
		return loss, fmt.Errorf("lose a master: %d control planes; etcd keeps quorum without one only with 3 or more", len(b.Cluster.ControlPlanes))
	}
	if err := tb.StopMachine(ctx, master); err != nil {
		return loss, err
	}
	var apiErr error
	if loss.Via, apiErr = b.WaitAPI(ctx, APIWait); apiErr == nil {
		loss.APIReachable = true
	}
	start := time.Now()
	if err := tb.StartMachine(ctx, master); err != nil {
		return loss, err
	}
	o.Layers = []string{layer.Cluster}
	if _, err := tb.Apply(ctx, o); err != nil {
		return loss, fmt.Errorf("bring %s back: %w", master, err)
	}
	if err := b.WaitControlPlane(ctx, master, 3*time.Minute); err != nil {
		return loss, fmt.Errorf("bring %s back: %w", master, err)
	}
	loss.RecoverSeconds, loss.Recovered = seconds(time.Since(start)), true
	if apiErr != nil {
		return loss, fmt.Errorf("the API did not answer with %s down: %w", master, apiErr)
	}
	return loss, nil
}

func seconds(d time.Duration) float64 { return d.Round(time.Millisecond).Seconds() }

package lab

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/planetstage/planetstage/kubeadm"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// Bootstrapper is the kubeadm flow of the lab's cluster, acting through
// the lab's Dial and plan state: for reaching the cluster from one point
// (kubectl through the load balancer, deployments, node lists).
func (l *Lab) Bootstrapper() (*kubeadm.Bootstrapper, error) {
	t := l.Topology()
	if t == nil {
		return nil, fmt.Errorf("lab %q: no topology", l.name)
	}
	state, err := l.State()
	if err != nil {
		return nil, err
	}
	return layer.ClusterBootstrapper(t, l.Env(state))
}

// AddHost grows the running testbed by host h in site (the thesis's "add a
// node"): the lab takes the machine in (Grow) and Apply runs the plan of
// the grown topology, whose machines layer creates and powers on the VM
// (the container starts with it) and whose cluster layer joins it when it
// is a worker or control plane. t is the topology the lab was brought up
// with (or last grown to); the grown one is returned.
func (l *Lab) AddHost(ctx context.Context, t *topology.Topology, site string, h topology.Host, o ApplyOptions) (*topology.Topology, *plan.Result, error) {
	grown, err := t.WithHost(site, h)
	if err != nil {
		return nil, nil, err
	}
	if err := grown.Validate(); err != nil {
		return nil, nil, err
	}
	if err := l.Grow(ctx, grown); err != nil {
		return nil, nil, err
	}
	res, err := l.Apply(ctx, o)
	return grown, res, err
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

// AddNode adds host h to site as AddHost does (o's default layers include
// the cluster's, which joins h) and then asks the cluster through the load
// balancer whether h is a Ready node. The addition is returned with what
// failed; t is as for AddHost.
func (l *Lab) AddNode(ctx context.Context, t *topology.Topology, site string, h topology.Host, o ApplyOptions) (NodeAddition, error) {
	add := NodeAddition{Node: h.Name, Site: site}
	start := time.Now()
	_, res, err := l.AddHost(ctx, t, site, h, o)
	add.Result, add.Seconds = res, seconds(time.Since(start))
	if err != nil {
		return add, fmt.Errorf("add node %s: %w", h.Name, err)
	}
	b, err := l.Bootstrapper()
	if err != nil {
		return add, err
	}
	nodes, _, err := b.Nodes(ctx)
	add.Ready = slices.ContainsFunc(nodes, func(n kubeadm.NodeStatus) bool { return n.Name == h.Name && n.Ready })
	if err != nil {
		return add, fmt.Errorf("add node %s: %w", h.Name, err)
	}
	return add, nil
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

// LoseControlPlane stops control plane master's machine, asks the API
// through the load balancer as a client would (up to APIWait), starts the
// machine again and applies the cluster layer, which repairs what the
// restart lost (the pod network's devices), then waits until the master's
// own API server is ready. The loss is returned with what failed.
func (l *Lab) LoseControlPlane(ctx context.Context, master string, o ApplyOptions) (ControlPlaneLoss, error) {
	loss := ControlPlaneLoss{Master: master}
	b, err := l.Bootstrapper()
	if err != nil {
		return loss, err
	}
	if len(b.Cluster.ControlPlanes) < 3 {
		return loss, fmt.Errorf("%d control planes; etcd keeps quorum without one only with 3 or more", len(b.Cluster.ControlPlanes))
	}
	if err := l.Stop(ctx, master); err != nil {
		return loss, err
	}
	var apiErr error
	if loss.Via, apiErr = b.WaitAPI(ctx, APIWait); apiErr == nil {
		loss.APIReachable = true
	}
	start := time.Now()
	if err := l.Start(ctx, master); err != nil {
		return loss, err
	}
	o.Layers = []string{layer.Cluster}
	if _, err := l.Apply(ctx, o); err != nil {
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

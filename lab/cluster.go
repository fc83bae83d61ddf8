package lab

import (
	"context"
	"fmt"

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
// with (or last grown to); nil means Given. The grown one is returned.
// Package testbed's AddNode does this and then asks the cluster whether
// the new node is Ready.
func (l *Lab) AddHost(ctx context.Context, t *topology.Topology, site string, h topology.Host, o ApplyOptions) (*topology.Topology, *plan.Result, error) {
	if t == nil {
		if t = l.Given(); t == nil {
			return nil, nil, fmt.Errorf("lab %q: no topology to add %s to (a lab made by UpSpec)", l.name, h.Name)
		}
	}
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

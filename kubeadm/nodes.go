package kubeadm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// NodeStatus is one Kubernetes node as the API reports it.
type NodeStatus struct {
	Name       string `json:"name"`
	Ready      bool   `json:"ready"`
	InternalIP string `json:"internalIP"`
}

// Nodes lists the cluster's nodes with their readiness and internal IP,
// asked through the load balancer (see Kubectl), and says which control
// plane asked.
func (b *Bootstrapper) Nodes(ctx context.Context) (nodes []NodeStatus, via string, err error) {
	raw, via, err := b.Kubectl(ctx, "get", "nodes", "-o", "json")
	if err != nil {
		return nil, via, err
	}
	var list corev1.NodeList
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		return nil, via, fmt.Errorf("kubectl get nodes -o json: %w", err)
	}
	for _, n := range list.Items {
		ns := NodeStatus{Name: n.Name}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				ns.Ready = c.Status == corev1.ConditionTrue
			}
		}
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				ns.InternalIP = a.Address
			}
		}
		nodes = append(nodes, ns)
	}
	return nodes, via, nil
}

// WaitAPI asks the API for /readyz through the load balancer, from the
// first control plane that can ask (APIReachableAny), every poll interval
// until it answers or timeout passes: what a client does while the load
// balancer takes a lost master out. It returns the control plane that got
// the answer, or the last error.
func (b *Bootstrapper) WaitAPI(ctx context.Context, timeout time.Duration) (via string, err error) {
	err = b.until(ctx, timeout, func() error {
		via, err = b.APIReachableAny(ctx)
		return err
	})
	return via, err
}

// WaitControlPlane waits until node's own API server (not the load
// balancer) answers /readyz, which needs its etcd member too: a restarted
// master is back in the cluster then. The node list alone would not show a
// restart: the node controller waits 40 s before it marks a silent node
// NotReady.
func (b *Bootstrapper) WaitControlPlane(ctx context.Context, node string, timeout time.Duration) error {
	var addr netip.Addr
	for _, cp := range b.Cluster.ControlPlanes {
		if cp.Name == node {
			addr = cp.Address
		}
	}
	if !addr.IsValid() {
		return fmt.Errorf("%s is not a control plane of cluster %s", node, b.Cluster.Name)
	}
	own := "https://" + netip.AddrPortFrom(addr, b.Cluster.Endpoint.Port()).String()
	err := b.until(ctx, timeout, func() error {
		out, err := b.KubectlOn(ctx, node, "--server", own, "--request-timeout="+APIProbeTimeout, "get", "--raw", "/readyz")
		if err == nil && strings.TrimSpace(out) != "ok" {
			err = fmt.Errorf("/readyz answered %q", tail(strings.TrimSpace(out), 200))
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("control plane %s: its API server at %s is not ready after %s: %w", node, own, timeout, err)
	}
	return nil
}

// until calls try every poll interval until it succeeds, timeout passes
// (then its last error) or ctx ends (then ctx's error).
func (b *Bootstrapper) until(ctx context.Context, timeout time.Duration, try func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	interval := min(b.poll(), time.Second)
	for {
		err := try()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			if cause := context.Cause(ctx); !errors.Is(cause, context.DeadlineExceeded) {
				return cause
			}
			return fmt.Errorf("after %s: %w", timeout, err)
		case <-time.After(interval):
		}
	}
}

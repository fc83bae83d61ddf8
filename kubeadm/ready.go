package kubeadm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/planetstage/planetstage/remote"
)

const nodesReadyJSONPath = `{range .items[*]}{.metadata.name}{"\t"}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`

// NodeReadiness reads every node's Ready condition with kubectl on r (a
// control plane): name -> "True", "False" or "Unknown".
func (b *Bootstrapper) NodeReadiness(ctx context.Context, r remote.Runner) (map[string]string, error) {
	out, err := b.run(ctx, r, kubectl("get nodes -o jsonpath="+remote.ShellQuote(nodesReadyJSONPath)), nil)
	if err != nil {
		return nil, err
	}
	ready := map[string]string{}
	for line := range strings.Lines(out) {
		name, status, _ := strings.Cut(strings.TrimSpace(line), "\t")
		if name != "" {
			ready[name] = status
		}
	}
	return ready, nil
}

// NotReady lists the cluster's nodes that are missing or not Ready in
// readiness, sorted.
func (c *Cluster) NotReady(readiness map[string]string) []string {
	var bad []string
	for _, n := range c.Nodes() {
		if readiness[n.Name] != "True" {
			bad = append(bad, n.Name)
		}
	}
	slices.Sort(bad)
	return bad
}

// WaitReady polls with kubectl on the first control plane until every node
// of the Cluster is Ready, or ReadyTimeout passes; the error then names the
// nodes that are not Ready and what the API server said about each.
func (b *Bootstrapper) WaitReady(ctx context.Context) error {
	timeout := b.ReadyTimeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	first := b.Cluster.FirstControlPlane().Name
	r, err := b.dial(ctx, first)
	if err != nil {
		return err
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last map[string]string
	var lastErr error
	for {
		readiness, err := b.NodeReadiness(ctx, r)
		if err == nil {
			if len(b.Cluster.NotReady(readiness)) == 0 {
				return nil
			}
			last = readiness
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
		case <-time.After(b.poll()):
			continue
		}
		break
	}
	if lastErr != nil && last == nil {
		return fmt.Errorf("cluster: nodes not Ready after %s: reading nodes on %s: %w", timeout, first, lastErr)
	}
	var detail []string
	for _, n := range b.Cluster.NotReady(last) {
		status, ok := last[n]
		if !ok {
			status = "not registered"
		} else if status == "" {
			status = "no Ready condition"
		} else {
			status = "Ready=" + status
		}
		detail = append(detail, n+" ("+status+")")
	}
	err = fmt.Errorf("cluster: nodes not Ready after %s: %s", timeout, strings.Join(detail, ", "))
	if parent.Err() != nil {
		err = errors.Join(parent.Err(), err)
	}
	return err
}

// Remove takes a node out of the cluster: drain it, reset it (which also
// removes a control plane's etcd member while the API still answers),
// delete the Node object, and forget it. The node itself may be gone
// already (its VM deleted); then only the cluster side is cleaned up.
func (b *Bootstrapper) Remove(ctx context.Context, m Member) error {
	first := b.Cluster.FirstControlPlane().Name
	if m.Name == first {
		return fmt.Errorf("node %q: remove: it is the first control plane; move another control plane first in the topology", m.Name)
	}
	master, err := b.dial(ctx, first)
	if err != nil {
		return err
	}
	name := remote.ShellQuote(m.Name)
	exists := kubectl("get node " + name + " >/dev/null 2>&1")
	drain := kubectl("drain " + name + " --ignore-daemonsets --delete-emptydir-data --force --timeout=120s")
	if _, err := b.run(ctx, master, "if "+exists+"; then "+drain+"; fi", nil); err != nil {
		return fmt.Errorf("node %q: remove: drain: %w", m.Name, err)
	}
	if r, err := b.dial(ctx, m.Name); err != nil {
		b.log().Warn("node unreachable; removing it from the cluster only", "node", m.Name, "error", err)
	} else {
		if _, err := b.run(ctx, r, "kubeadm reset -f && rm -f "+MarkerFile+" "+ConfigDir+"/*.yaml", nil); err != nil {
			return fmt.Errorf("node %q: remove: reset: %w", m.Name, err)
		}
	}
	if _, err := b.run(ctx, master, kubectl("delete node "+name+" --ignore-not-found"), nil); err != nil {
		return fmt.Errorf("node %q: remove: delete: %w", m.Name, err)
	}
	b.log().Info("node removed from the cluster", "node", m.Name)
	return b.forgetMember(m.Name)
}

// Reset undoes kubeadm on one node (`kubeadm reset -f`), removes its marker
// and configs, and forgets it as a member. A node that never joined is left
// alone.
func (b *Bootstrapper) Reset(ctx context.Context, node string) error {
	r, err := b.dial(ctx, node)
	if err != nil {
		return err
	}
	if done, err := Done(ctx, r); err != nil || !done {
		return err
	}
	if _, err := b.run(ctx, r, "kubeadm reset -f && rm -f "+MarkerFile+" "+ConfigDir+"/*.yaml", nil); err != nil {
		return fmt.Errorf("node %q: reset: %w", node, err)
	}
	return b.forgetMember(node)
}

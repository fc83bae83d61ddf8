package kubeadm

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// Spread is a Deployment deployed and checked from one point, as the
// thesis did with nginx (§5.2): where its replicas landed and how many
// answered through the API server, that is across the tunnels.
type Spread struct {
	Name     string `json:"name"`
	Image    string `json:"image"`
	Replicas int    `json:"replicas"`
	// Nodes are the nodes a Ready replica runs on (ReadyNodes).
	Nodes []string `json:"nodes"`
	// Reached counts the replicas that answered through the pod proxy.
	Reached int `json:"reached"`
	// Seconds is from the apply to every replica Ready (or the failure).
	Seconds float64 `json:"seconds"`
	// Answers are each replica's answer (ProxyEachPod), for printing.
	Answers []ProxyResult `json:"-"`
}

// DeploySpread deploys d and waits until every replica is Ready
// (DeployDeployment), then fetches path from each replica through the API
// server (ProxyEachPod). The Spread holds what was seen also when an error
// is returned; a replica that does not answer is not an error, but is
// missing from Reached.
func (b *Bootstrapper) DeploySpread(ctx context.Context, d Deployment, path string) (Spread, error) {
	s := Spread{Name: d.Name, Image: d.Image, Replicas: d.Replicas}
	start := time.Now()
	pods, err := b.DeployDeployment(ctx, d)
	s.Seconds, s.Nodes = time.Since(start).Round(time.Millisecond).Seconds(), ReadyNodes(pods)
	if err != nil {
		return s, fmt.Errorf("deployment %s: %w", d.Name, err)
	}
	if s.Answers, err = b.ProxyEachPod(ctx, d, path); err != nil {
		return s, fmt.Errorf("deployment %s: reach the pods: %w", d.Name, err)
	}
	for _, a := range s.Answers {
		if a.Err == nil {
			s.Reached++
		}
	}
	return s, nil
}

// Problems compares s with a spread over every worker, one replica each:
// the replicas run on distinct workers, as many as there are, and every
// one answered. None means the deployment reached every site it should.
func (s Spread) Problems(workers int) []string {
	var problems []string
	if len(s.Nodes) != workers {
		problems = append(problems, fmt.Sprintf("the deployment's %d replicas run on %d distinct workers (%v), not %d", s.Replicas, len(s.Nodes), s.Nodes, workers))
	}
	if s.Reached != s.Replicas {
		problems = append(problems, fmt.Sprintf("%d of %d replicas answered through the API", s.Reached, s.Replicas))
	}
	return problems
}

// WriteText writes s for a person: a line for the deployment, and one per
// replica with its node, pod IP and answer (or why it gave none).
func (s Spread) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Deployment %s (%s), %d replicas, Ready in %.1f s, on %s\n", s.Name, s.Image, s.Replicas, s.Seconds, strings.Join(s.Nodes, ", "))
	fmt.Fprintln(&b, "Each replica reached through the API server (kubectl get --raw …/pods/POD:PORT/proxy/):")
	for _, r := range s.Answers {
		if r.Err != nil {
			fmt.Fprintf(&b, "  ✗ %-24s %-9s %-15s %v\n", r.Pod, r.Node, r.PodIP, r.Err)
		} else {
			fmt.Fprintf(&b, "  ✓ %-24s %-9s %-15s %s\n", r.Pod, r.Node, r.PodIP, strings.TrimSpace(r.Body))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

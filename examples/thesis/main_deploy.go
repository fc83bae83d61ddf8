package main

import (
	"context"
	"fmt"
	"github.com/planetstage/planetstage/layer"
	"io"
	"strings"
	"time"

	"github.com/planetstage/planetstage/kubeadm"
	"github.com/planetstage/planetstage/lab/k8snode"
	"github.com/planetstage/planetstage/topology"
)

// deploymentReport is the thesis's system under test (§5.2): a small HTTP
// server scaled to one replica per worker, each replica reached through the
// API server from one point.
type deploymentReport struct {
	Name     string   `json:"name"`
	Image    string   `json:"image"`
	Replicas int      `json:"replicas"`
	Nodes    []string `json:"nodes"`
	// Reached counts the replicas that answered GET / through the API
	// server's pod proxy: traffic from a master in site A to pods in the
	// other sites, across the tunnels.
	Reached int     `json:"reached"`
	Seconds float64 `json:"seconds"`
}

// webDeployment is the thesis's nginx: the lab's offline web image, one
// replica per worker.
func webDeployment(workers int) kubeadm.Deployment {
	return kubeadm.Deployment{
		Name: "web", Image: k8snode.WebImage, Replicas: workers, Port: k8snode.WebPort,
		PullPolicy: kubeadm.PullNever, Timeout: 5 * time.Minute,
	}
}

// deploy runs the web deployment on every worker and reaches each replica
// through the API, printing where each landed and what it answered.
func deploy(ctx context.Context, t *topology.Topology, env *layer.Env, out io.Writer) (*deploymentReport, error) {
	b, err := layer.ClusterBootstrapper(t, env)
	if err != nil {
		return nil, err
	}
	d := webDeployment(len(t.HostsWithRole(topology.RoleWorker)))
	rep := &deploymentReport{Name: d.Name, Image: d.Image, Replicas: d.Replicas}
	start := time.Now()
	pods, err := b.DeployDeployment(ctx, d)
	rep.Seconds = round(time.Since(start).Seconds())
	rep.Nodes = kubeadm.ReadyNodes(pods)
	if err != nil {
		return rep, fmt.Errorf("deployment %s: %w", d.Name, err)
	}
	fmt.Fprintf(out, "\nDeployment %s (%s), %d replicas, Ready in %.1f s, on %s\n", d.Name, d.Image, d.Replicas, rep.Seconds, strings.Join(rep.Nodes, ", "))
	results, err := b.ProxyEachPod(ctx, d, "/")
	if err != nil {
		return rep, fmt.Errorf("deployment %s: reach the pods: %w", d.Name, err)
	}
	fmt.Fprintln(out, "Each replica reached through the API server (kubectl get --raw …/pods/POD:8080/proxy/):")
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(out, "  ✗ %-24s %-9s %-15s %v\n", r.Pod, r.Node, r.PodIP, r.Err)
			continue
		}
		rep.Reached++
		fmt.Fprintf(out, "  ✓ %-24s %-9s %-15s %s\n", r.Pod, r.Node, r.PodIP, strings.TrimSpace(r.Body))
	}
	return rep, nil
}

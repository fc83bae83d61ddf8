package main

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/planetstage/planetstage/kubeadm"
	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/lab/k8snode"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// The thesis's measured time to add a node: creating the VM (509.5 s) and
// joining it (105.9 s).
const thesisAddNodeSeconds = 509.5 + 105.9

// nodeReport is one Kubernetes node as `kubectl get nodes` shows it.
type nodeReport = kubeadm.NodeStatus

// deploymentReport is the thesis's system under test (§5.2): a small HTTP
// server scaled to one replica per worker, each replica reached through the
// API server from one point (across the tunnels).
type deploymentReport struct {
	Name     string   `json:"name"`
	Image    string   `json:"image"`
	Replicas int      `json:"replicas"`
	Nodes    []string `json:"nodes"`
	Reached  int      `json:"reached"`
	Seconds  float64  `json:"seconds"`
}

// addNodeReport is the thesis's "add a node": a worker added to site B,
// from the changed topology to the node Ready.
type addNodeReport struct {
	Node          string  `json:"node"`
	Site          string  `json:"site"`
	Seconds       float64 `json:"seconds"`
	ThesisSeconds float64 `json:"thesisSeconds"`
	Ready         bool    `json:"ready"`
}

// masterLossReport is one control plane stopped: does the API answer
// through HAProxy, and how long until the master is back in the cluster.
type masterLossReport = lab.ControlPlaneLoss

// resourceReport is what the lab's containers use once the cluster idles.
type resourceReport struct {
	MemoryMiB float64            `json:"memoryMiB"`
	CPUPct    float64            `json:"cpuPct"`
	PerNode   map[string]float64 `json:"memoryMiBPerMachine"`
}

// bringUpCluster applies the cluster layer, prints `kubectl get nodes -o
// wide` (thesis figure 5.1) and deploys the web server on every worker.
func bringUpCluster(ctx context.Context, l *lab.Lab, apply func(...string) (*plan.Result, error), out io.Writer, rep *report) error {
	start := time.Now()
	_, err := apply(layer.Cluster)
	rep.ClusterSeconds = seconds(time.Since(start))
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	fmt.Fprintf(out, " ✓ Cluster up: every node Ready %.1f s after the tunnels\n", rep.ClusterSeconds)
	b, err := l.Bootstrapper()
	if err != nil {
		return err
	}
	wide, via, err := b.Kubectl(ctx, "get", "nodes", "-o", "wide")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nkubectl get nodes -o wide (on %s, through the load balancer):\n%s\n", via, wide)
	if rep.Nodes, _, err = b.Nodes(ctx); err != nil {
		return err
	}
	rep.Deployment, err = deploy(ctx, b, len(l.Topology().HostsWithRole(topology.RoleWorker)), out)
	return err
}

// deploy runs the lab's offline web image (the thesis's nginx) with one
// replica per worker and reaches each replica through the API.
func deploy(ctx context.Context, b *kubeadm.Bootstrapper, workers int, out io.Writer) (*deploymentReport, error) {
	d := kubeadm.Deployment{Name: "web", Image: k8snode.WebImage, Replicas: workers, Port: k8snode.WebPort,
		PullPolicy: kubeadm.PullNever, Timeout: 5 * time.Minute}
	rep := &deploymentReport{Name: d.Name, Image: d.Image, Replicas: d.Replicas}
	start := time.Now()
	pods, err := b.DeployDeployment(ctx, d)
	rep.Seconds, rep.Nodes = seconds(time.Since(start)), kubeadm.ReadyNodes(pods)
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

// evaluateCluster runs the thesis's experiments on the running cluster:
// add a worker, lose a master, and what it all costs at idle.
func evaluateCluster(ctx context.Context, l *lab.Lab, t *topology.Topology, o lab.ApplyOptions, out io.Writer, rep *report) error {
	h := topology.Host{Name: "node05", Address: netip.MustParseAddr("192.168.20.103"), Role: topology.RoleWorker}
	rep.AddNode = &addNodeReport{Node: h.Name, Site: "site-b", ThesisSeconds: thesisAddNodeSeconds}
	fmt.Fprintf(out, "\nAdding a worker: %s (%s) in %s\n", h.Name, h.Address, rep.AddNode.Site)
	start := time.Now()
	o.Layers = nil // every layer, cluster included
	_, res, err := l.AddHost(ctx, t, rep.AddNode.Site, h, o)
	rep.add(res)
	rep.AddNode.Seconds = seconds(time.Since(start))
	if err != nil {
		return fmt.Errorf("add a node: %w", err)
	}
	b, err := l.Bootstrapper()
	if err != nil {
		return err
	}
	nodes, _, err := b.Nodes(ctx)
	for _, n := range nodes {
		rep.AddNode.Ready = rep.AddNode.Ready || n.Name == h.Name && n.Ready
	}
	if err != nil {
		return fmt.Errorf("add a node: %w", err)
	}
	fmt.Fprintf(out, " ✓ %s joined and Ready in %.1f s (thesis: %.1f s)\n", h.Name, rep.AddNode.Seconds, thesisAddNodeSeconds)

	master := l.Topology().HostsWithRole(topology.RoleControlPlane)[0].Name
	fmt.Fprintf(out, "\nLosing a master: stopping %s, asking the API through the load balancer, starting it again\n", master)
	loss, err := l.LoseControlPlane(ctx, master, o)
	rep.MasterLoss = &loss
	if err != nil {
		return fmt.Errorf("lose a master: %w", err)
	}
	fmt.Fprintf(out, " ✓ API answered through the load balancer with %s down (asked from %s); %s back, its own API server and etcd member ready, %.1f s after its start\n",
		master, loss.Via, master, loss.RecoverSeconds)

	// Resources once the cluster has settled after the restart.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(20 * time.Second):
	}
	usage, err := l.Usage(ctx)
	if err != nil {
		return err
	}
	rep.Resources = &resourceReport{PerNode: map[string]float64{}}
	for name, u := range usage {
		rep.Resources.PerNode[name] = u.MemoryMiB
		rep.Resources.MemoryMiB += u.MemoryMiB
		rep.Resources.CPUPct += u.CPUPct
	}
	fmt.Fprintf(out, "\nResources at idle (docker stats, %d containers): %.0f MiB, %.0f %% of one core\n", len(usage), rep.Resources.MemoryMiB, rep.Resources.CPUPct)
	return nil
}

func deploymentSeconds(r *report) float64 {
	if r.Deployment == nil {
		return 0
	}
	return r.Deployment.Seconds
}

func masterSeconds(r *report) float64 {
	if r.MasterLoss == nil {
		return 0
	}
	return r.MasterLoss.RecoverSeconds
}

// checkCluster compares the cluster with the thesis's evaluation: the
// nodes are the topology's (layer.CheckNodes) and span its sites, the
// deployment reached every worker, a node could be added and a master
// lost, and this machine's kernel kept its settings.
func checkCluster(t *topology.Topology, r *report) []string {
	problems := layer.CheckNodes(t, r.Nodes)
	subnets := map[netip.Prefix]bool{}
	for _, n := range r.Nodes {
		for _, s := range t.Sites {
			if ip, err := netip.ParseAddr(n.InternalIP); err == nil && s.Prefix.Contains(ip) {
				subnets[s.Prefix] = true
			}
		}
	}
	if len(r.Nodes) > 0 && len(subnets) != len(t.Sites) {
		problems = append(problems, fmt.Sprintf("nodes span %d subnets, not %d", len(subnets), len(t.Sites)))
	}
	workers := len(t.HostsWithRole(topology.RoleWorker))
	switch d := r.Deployment; {
	case d == nil:
		problems = append(problems, "no deployment")
	case len(d.Nodes) != workers:
		problems = append(problems, fmt.Sprintf("the deployment's %d replicas run on %d distinct workers (%v), not %d", d.Replicas, len(d.Nodes), d.Nodes, workers))
	case d.Reached != d.Replicas:
		problems = append(problems, fmt.Sprintf("%d of %d replicas answered through the API", d.Reached, d.Replicas))
	}
	if r.AddNode == nil || !r.AddNode.Ready {
		problems = append(problems, "the added worker is not Ready")
	}
	if len(r.HostSysctlsChanged) > 0 {
		problems = append(problems, "the kubelets changed this machine's kernel settings: "+strings.Join(r.HostSysctlsChanged, ", "))
	}
	if r.MasterLoss == nil || !r.MasterLoss.APIReachable {
		problems = append(problems, "the API did not answer with a master down")
	} else if !r.MasterLoss.Recovered {
		problems = append(problems, "the stopped master did not come back")
	}
	slices.Sort(problems)
	return problems
}

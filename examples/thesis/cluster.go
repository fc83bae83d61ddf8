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
	"github.com/planetstage/planetstage/testbed"
	"github.com/planetstage/planetstage/topology"
)

// The thesis's measured time to add a node: creating the VM (509.5 s) and
// joining it (105.9 s).
const thesisAddNodeSeconds = 509.5 + 105.9

// addNodeReport is the thesis's "add a node": a worker added to site B,
// from the changed topology to the node Ready, beside the thesis's time.
type addNodeReport struct {
	testbed.NodeAddition
	ThesisSeconds float64 `json:"thesisSeconds"`
}

// bringUpCluster applies the cluster layer, prints `kubectl get nodes -o
// wide` (thesis figure 5.1) and deploys the web server on every worker.
func bringUpCluster(ctx context.Context, tb *testbed.Testbed, apply func(...string) (*plan.Result, error), out io.Writer, rep *report) error {
	start := time.Now()
	_, err := apply(layer.Cluster)
	rep.ClusterSeconds = seconds(time.Since(start))
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	fmt.Fprintf(out, " ✓ Cluster up: every node Ready %.1f s after the tunnels\n", rep.ClusterSeconds)
	b, err := tb.Bootstrapper(ctx)
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
	rep.Deployment, err = deploy(ctx, b, len(tb.Topology().HostsWithRole(topology.RoleWorker)), out)
	return err
}

// deploy runs the lab's offline web image (the thesis's nginx) with one
// replica per worker and reaches each replica through the API.
func deploy(ctx context.Context, b *kubeadm.Bootstrapper, workers int, out io.Writer) (*kubeadm.Spread, error) {
	d := kubeadm.Deployment{Name: "web", Image: k8snode.WebImage, Replicas: workers, Port: k8snode.WebPort,
		PullPolicy: kubeadm.PullNever, Timeout: 5 * time.Minute}
	s, err := b.DeploySpread(ctx, d, "/")
	if err != nil {
		return &s, err
	}
	fmt.Fprintln(out)
	return &s, s.WriteText(out)
}

// evaluateCluster runs the thesis's experiments on the running cluster:
// add a worker, lose a master (the same testbed calls in the lab and on
// hardware), and, in the lab, what its containers cost at idle.
func evaluateCluster(ctx context.Context, tb *testbed.Testbed, o testbed.ApplyOptions, out io.Writer, rep *report) error {
	h := topology.Host{Name: "node05", Address: netip.MustParseAddr("192.168.20.103"), Role: topology.RoleWorker}
	fmt.Fprintf(out, "\nAdding a worker: %s (%s) in site-b\n", h.Name, h.Address)
	o.Layers = nil // every layer, cluster included
	add, err := tb.AddNode(ctx, "site-b", h, o)
	rep.AddNode = &addNodeReport{NodeAddition: add, ThesisSeconds: thesisAddNodeSeconds}
	rep.Add(add.Result)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, " ✓ %s joined and Ready in %.1f s (thesis: %.1f s)\n", h.Name, add.Seconds, thesisAddNodeSeconds)

	master := tb.Topology().HostsWithRole(topology.RoleControlPlane)[0].Name
	fmt.Fprintf(out, "\nLosing a master: stopping %s, asking the API through the load balancer, starting it again\n", master)
	loss, err := tb.LoseControlPlane(ctx, master, o)
	rep.MasterLoss = &loss
	if err != nil {
		return fmt.Errorf("lose a master: %w", err)
	}
	fmt.Fprintf(out, " ✓ API answered through the load balancer with %s down (asked from %s); %s back, its own API server and etcd member ready, %.1f s after its start\n",
		master, loss.Via, master, loss.RecoverSeconds)
	if !tb.IsLab() {
		return nil
	}
	// Resources once the cluster has settled after the restart: the
	// lab's containers, from docker stats.
	l, err := tb.Lab(ctx)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(20 * time.Second):
	}
	usage, err := l.Usage(ctx)
	if err != nil {
		return err
	}
	total := lab.TotalUsage(usage)
	rep.Resources = &total
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
// nodes are the topology's, each in its site's subnet (layer.CheckNodes),
// the deployment reached every worker, a node could be added and a master
// lost, and, in the lab, whose kubelets share this machine's kernel, the
// kernel kept its settings.
func checkCluster(t *topology.Topology, r *report, inLab bool) []string {
	problems := layer.CheckNodes(t, r.Nodes)
	if r.Deployment == nil {
		problems = append(problems, "no deployment")
	} else {
		problems = append(problems, r.Deployment.Problems(len(t.HostsWithRole(topology.RoleWorker)))...)
	}
	if r.AddNode == nil || !r.AddNode.Ready {
		problems = append(problems, "the added worker is not Ready")
	}
	if inLab && len(r.HostSysctlsChanged) > 0 {
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

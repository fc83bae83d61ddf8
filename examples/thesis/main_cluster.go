package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/planetstage/planetstage/layer"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/lab/k8snode"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// The thesis's measured time to add a node: creating the VM (509.5 s) and
// joining it (105.9 s).
const thesisAddNodeSeconds = 509.5 + 105.9

// nodeReport is one Kubernetes node as `kubectl get nodes` shows it.
type nodeReport struct {
	Name       string `json:"name"`
	Ready      bool   `json:"ready"`
	InternalIP string `json:"internalIP"`
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
type masterLossReport struct {
	Master         string  `json:"master"`
	APIReachable   bool    `json:"apiReachable"`
	Via            string  `json:"via"`
	RecoverSeconds float64 `json:"recoverSeconds"`
	Recovered      bool    `json:"recovered"`
}

// resourceReport is what the lab's containers use once the cluster idles.
type resourceReport struct {
	MemoryMiB float64            `json:"memoryMiB"`
	CPUPct    float64            `json:"cpuPct"`
	PerNode   map[string]float64 `json:"memoryMiBPerMachine"`
}

// buildNodeImage builds (or finds cached) the offline Kubernetes node image.
func buildNodeImage(ctx context.Context, log *slog.Logger, out io.Writer, rep *report) (string, error) {
	fmt.Fprintf(out, " • Kubernetes node image: building or reusing (the first build compiles Kubernetes: tens of minutes)\n")
	res, err := k8snode.Build(ctx, k8snode.Options{Log: log})
	if err != nil {
		return "", fmt.Errorf("kubernetes node image: %w", err)
	}
	rep.NodeImageSeconds = round(res.Elapsed.Seconds())
	rep.NodeImageCached = len(res.Built) == 0
	how := "cached"
	if !rep.NodeImageCached {
		how = "built " + strings.Join(res.Built, ", ")
	}
	fmt.Fprintf(out, " ✓ Kubernetes node image %s (%s, %s)\n", res.Image, how, res.Elapsed.Round(100*time.Millisecond))
	return res.Image, nil
}

// listNodes prints `kubectl get nodes -o wide` (thesis figure 5.1) and
// returns each node's readiness and internal IP.
func listNodes(ctx context.Context, t *topology.Topology, env *layer.Env, out io.Writer) ([]nodeReport, error) {
	b, err := layer.ClusterBootstrapper(t, env)
	if err != nil {
		return nil, err
	}
	wide, via, err := b.Kubectl(ctx, "get", "nodes", "-o", "wide")
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "\nkubectl get nodes -o wide (on %s, through the load balancer):\n%s\n", via, wide)
	raw, _, err := b.Kubectl(ctx, "get", "nodes", "-o", "json")
	if err != nil {
		return nil, err
	}
	var list corev1.NodeList
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		return nil, fmt.Errorf("kubectl get nodes -o json: %w", err)
	}
	var nodes []nodeReport
	for _, n := range list.Items {
		nr := nodeReport{Name: n.Name}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				nr.Ready = c.Status == corev1.ConditionTrue
			}
		}
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				nr.InternalIP = a.Address
			}
		}
		nodes = append(nodes, nr)
	}
	return nodes, nil
}

// withWorker returns t with one more worker in site.
func withWorker(t *topology.Topology, site, name, address string) *topology.Topology {
	g := t.Clone()
	for i := range g.Sites {
		if g.Sites[i].Name == site {
			g.Sites[i].Hosts = append(g.Sites[i].Hosts, topology.Host{Name: name, Address: netip.MustParseAddr(address), Role: topology.RoleWorker})
		}
	}
	g.SetDefaults()
	return g
}

// addNode is the thesis's add-a-node experiment: the topology gains a
// worker in site B and the plan runs again; the lab gives the VM the plan
// creates its container, and kubeadm joins it. Timed from the changed
// topology to the node Ready.
func addNode(ctx context.Context, l *lab.Lab, t *topology.Topology, state *topology.State, log *slog.Logger, layers []string, o options, out io.Writer) (*addNodeReport, *plan.Result, error) {
	const site, name, address = "site-b", "node05", "192.168.20.103"
	rep := &addNodeReport{Node: name, Site: site, ThesisSeconds: thesisAddNodeSeconds}
	fmt.Fprintf(out, "\nAdding a worker: %s (%s) in %s\n", name, address, site)
	start := time.Now()
	if err := l.Grow(ctx, withWorker(t, site, name, address)); err != nil {
		return rep, nil, err
	}
	env := newEnv(l, state, log)
	res, err := walk(ctx, l.Topology(), env, layers, o, out)
	rep.Seconds = round(time.Since(start).Seconds())
	if err != nil {
		return rep, res, err
	}
	nodes, err := listNodes(ctx, l.Topology(), env, io.Discard)
	if err != nil {
		return rep, res, err
	}
	for _, n := range nodes {
		if n.Name == name {
			rep.Ready = n.Ready
		}
	}
	fmt.Fprintf(out, " ✓ %s joined and Ready in %.1f s (thesis: %.1f s)\n", name, rep.Seconds, thesisAddNodeSeconds)
	return rep, res, nil
}

// loseMaster stops one control plane's machine, checks that the API still
// answers through the load balancer from another master, starts it again
// and re-applies the cluster layer, which repairs what the restart lost
// (the pod network's devices), until every node is Ready.
func loseMaster(ctx context.Context, l *lab.Lab, state *topology.State, log *slog.Logger, o options, out io.Writer) (*masterLossReport, *plan.Result, error) {
	t := l.Topology()
	masters := t.HostsWithRole(topology.RoleControlPlane)
	if len(masters) < 3 {
		return nil, nil, fmt.Errorf("lose a master: %d control planes; etcd keeps quorum without one only with 3 or more", len(masters))
	}
	victim := masters[0].Name
	rep := &masterLossReport{Master: victim}
	env := newEnv(l, state, log)
	fmt.Fprintf(out, "\nLosing a master: stopping %s\n", victim)
	if err := l.Stop(ctx, victim); err != nil {
		return rep, nil, err
	}
	// HAProxy takes fall × inter (6 s) to mark it down; retries with
	// redispatch carry requests over meanwhile. Ask a few times, as a
	// client would, for up to half a minute.
	b, err := layer.ClusterBootstrapper(t, env)
	if err != nil {
		return rep, nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	var probeErr error
	for time.Now().Before(deadline) {
		if rep.Via, probeErr = b.APIReachableAny(ctx); probeErr == nil {
			rep.APIReachable = true
			break
		}
		time.Sleep(time.Second)
	}
	if rep.APIReachable {
		fmt.Fprintf(out, " ✓ API answers through the load balancer with %s down (asked from %s)\n", victim, rep.Via)
	} else {
		fmt.Fprintf(out, " ✗ API did not answer with %s down: %v\n", victim, probeErr)
	}
	start := time.Now()
	if err := l.Start(ctx, victim); err != nil {
		return rep, nil, err
	}
	res, err := walk(ctx, t, env, []string{"cluster"}, o, out)
	if err != nil {
		return rep, res, fmt.Errorf("bring %s back: %w", victim, err)
	}
	// The node list alone would not show the restart: the node controller
	// waits 40 s before it marks a silent node NotReady. The master is back
	// when its own API server (and so its etcd member) answers /readyz.
	own := "https://" + masters[0].Address.String() + ":" + strconv.Itoa(t.Cluster.APIPort)
	deadline = time.Now().Add(3 * time.Minute)
	for {
		var answer string
		answer, err = b.KubectlOn(ctx, victim, "--server", own, "--request-timeout=5s", "get", "--raw", "/readyz")
		if err == nil && strings.TrimSpace(answer) == "ok" {
			break
		}
		if time.Now().After(deadline) {
			return rep, res, fmt.Errorf("bring %s back: its API server at %s is not ready after 3 minutes: %v", victim, own, err)
		}
		time.Sleep(time.Second)
	}
	rep.RecoverSeconds = round(time.Since(start).Seconds())
	rep.Recovered = true
	fmt.Fprintf(out, " ✓ %s back: its own API server and etcd member ready, pod network repaired, %.1f s after its start\n", victim, rep.RecoverSeconds)
	return rep, res, nil
}

// measureResources sums what the lab's containers use (Lab.Usage).
func measureResources(ctx context.Context, l *lab.Lab) (*resourceReport, error) {
	usage, err := l.Usage(ctx)
	if err != nil {
		return nil, err
	}
	rep := &resourceReport{PerNode: map[string]float64{}}
	for name, u := range usage {
		rep.PerNode[name] = round(u.MemoryMiB)
		rep.MemoryMiB += u.MemoryMiB
		rep.CPUPct += u.CPUPct
	}
	rep.MemoryMiB, rep.CPUPct = round(rep.MemoryMiB), round(rep.CPUPct)
	return rep, nil
}

// hostSysctls reads the host-wide kernel settings a kubelet wants to
// change (k8snode shadows them inside each node): the cluster must leave
// this machine's own values alone.
func hostSysctls() map[string]string {
	got := map[string]string{}
	for _, k := range []string{"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops"} {
		data, err := os.ReadFile("/proc/sys/" + k)
		if err != nil {
			got[k] = "unreadable: " + err.Error()
			continue
		}
		got[k] = strings.TrimSpace(string(data))
	}
	return got
}

// changedSysctls lists the settings that differ between two readings.
func changedSysctls(before, after map[string]string) []string {
	var changed []string
	for k, v := range before {
		if after[k] != v {
			changed = append(changed, fmt.Sprintf("%s %s -> %s", k, v, after[k]))
		}
	}
	slices.Sort(changed)
	return changed
}

// checkCluster compares the cluster with the thesis's evaluation.
func checkCluster(t *topology.Topology, r *report) []string {
	var problems []string
	want := map[string]netip.Prefix{}
	for _, m := range t.Machines() {
		if m.Role == topology.RoleControlPlane || m.Role == topology.RoleWorker {
			want[m.Name] = m.Site.Prefix
		}
	}
	subnets := map[netip.Prefix]bool{}
	for _, n := range r.Nodes {
		p, ok := want[n.Name]
		ip, err := netip.ParseAddr(n.InternalIP)
		switch {
		case !ok:
			problems = append(problems, "unexpected node "+n.Name)
		case !n.Ready:
			problems = append(problems, "node "+n.Name+" not Ready")
		case err != nil || !p.Contains(ip):
			problems = append(problems, fmt.Sprintf("node %s has internal IP %q, not in its site %s", n.Name, n.InternalIP, p))
		default:
			subnets[p] = true
		}
		delete(want, n.Name)
	}
	for name := range want {
		problems = append(problems, "node "+name+" missing")
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

// evaluateCluster runs the thesis's experiments on the running cluster after
// the no-op re-apply: add a worker, lose a master, and what it all costs.
func evaluateCluster(ctx context.Context, l *lab.Lab, t *topology.Topology, state *topology.State, log *slog.Logger, layers []string, o options, out io.Writer, rep *report, results *[]*plan.Result) error {
	var err error
	var res *plan.Result
	rep.AddNode, res, err = addNode(ctx, l, t, state, log, layers, o, out)
	*results = append(*results, res)
	if err != nil {
		return fmt.Errorf("add a node: %w", err)
	}
	rep.MasterLoss, res, err = loseMaster(ctx, l, state, log, o, out)
	*results = append(*results, res)
	if err != nil {
		return fmt.Errorf("lose a master: %w", err)
	}
	// Resources once the cluster has settled after the restart.
	time.Sleep(20 * time.Second)
	if rep.Resources, err = measureResources(ctx, l); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nResources at idle (docker stats, %d containers): %.0f MiB, %.0f %% of one core\n", len(rep.Resources.PerNode), rep.Resources.MemoryMiB, rep.Resources.CPUPct)
	return nil
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/planetstage/planetstage/kubeadm"
	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/reach"
	"github.com/planetstage/planetstage/testbed"
	"github.com/planetstage/planetstage/topology"
)

// report is the run as --report writes it: the lab's record of the run
// (steps, phases, timings) and what the thesis measured.
type report struct {
	lab.Report
	Before          reach.Matrix `json:"before"`
	After           reach.Matrix `json:"after"`
	MachinesSeconds float64      `json:"machinesSeconds"`
	Geo             *geoReport   `json:"geo,omitempty"`

	// The Kubernetes cluster (thesis §5), when --cluster (cluster.go).
	Cluster        bool                 `json:"cluster"`
	ClusterSeconds float64              `json:"clusterSeconds,omitempty"`
	Nodes          []kubeadm.NodeStatus `json:"nodes,omitempty"`
	// Deployment is the thesis's system under test (§5.2): a small HTTP
	// server, one replica per worker, each reached through the API server.
	Deployment *kubeadm.Spread           `json:"deployment,omitempty"`
	AddNode    *addNodeReport            `json:"addNode,omitempty"`
	MasterLoss *testbed.ControlPlaneLoss `json:"masterLoss,omitempty"`
	Resources  *lab.UsageTotal           `json:"resources,omitempty"`
	// HostSysctlsChanged lists host-wide kernel settings the cluster
	// changed on this machine; it must stay empty.
	HostSysctlsChanged []string `json:"hostSysctlsChanged,omitempty"`

	Check string `json:"check"`
}

func (r *report) passed() bool { return r.Check == "PASS" }

func (r *report) writeFile(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// check compares the run with the thesis: before the tunnels exactly the
// pairs within a site answer, after them every pair does, every step of the
// plan succeeded, and the routers layer, which makes the tunnels, ran; with
// the cluster, checkCluster's checks. PASS means the same checks passed in
// the lab and on hardware (inLab false); only the lab's own (this
// machine's kernel settings) run in the lab alone.
func check(t *topology.Topology, r *report, inLab bool) string {
	var problems []string
	if !slices.Contains(r.Layers, layer.Routers) {
		problems = append(problems, "the routers layer is not in this build, so no tunnel was made")
	}
	var wrongBefore, broken []string
	for _, p := range r.Before.Mismatches(reach.WithinSites(t)) {
		wrongBefore = append(wrongBefore, pairWord(p))
	}
	for _, p := range r.After.Unreachable() {
		broken = append(broken, pairWord(p))
	}
	failed := r.Failed()
	for _, c := range []struct {
		bad  bool
		what string
	}{
		{len(r.Before.Pairs) == 0, "no matrix before the tunnels"},
		{len(wrongBefore) > 0, fmt.Sprintf("before the tunnels %d pairs differ from table 4.6 (%s)", len(wrongBefore), abbreviate(wrongBefore))},
		{len(r.After.Pairs) == 0, "no matrix after the tunnels"},
		{len(broken) > 0, fmt.Sprintf("after the tunnels %d pairs are unreachable (%s)", len(broken), abbreviate(broken))},
		{len(r.ReapplyChanges) > 0, fmt.Sprintf("a second apply changed %d steps (%s)", len(r.ReapplyChanges), abbreviate(r.ReapplyChanges))},
		{len(failed) > 0, fmt.Sprintf("%d steps did not succeed (%s)", len(failed), abbreviate(failed))},
	} {
		if c.bad {
			problems = append(problems, c.what)
		}
	}
	if r.Cluster {
		problems = append(problems, checkCluster(t, r, inLab)...)
	}
	if len(problems) == 0 {
		return "PASS"
	}
	return "FAIL: " + strings.Join(problems, "; ")
}

func pairWord(p reach.Pair) string {
	if p.Reachable {
		return p.From + "->" + p.To + " reachable"
	}
	return p.From + "->" + p.To + " unreachable"
}

func abbreviate(items []string) string {
	if len(items) <= 4 {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:4], ", ") + fmt.Sprintf(", and %d more", len(items)-4)
}

// printTiming prints the lab's timing table with the thesis's own rows.
func printTiming(w io.Writer, r *report) {
	var rows []lab.TimingRow
	for _, t := range []struct {
		name string
		secs float64
		show bool
	}{
		{"(machines: VMs and their containers)", r.MachinesSeconds, r.MachinesSeconds > 0},
		{"(cluster: apply to all Ready)", r.ClusterSeconds, r.Cluster},
		{"(deployment Ready)", deploymentSeconds(r), r.Deployment != nil},
		{"(master back after restart)", masterSeconds(r), r.MasterLoss != nil},
	} {
		if t.show {
			rows = append(rows, lab.TimingRow{Name: t.name, Seconds: t.secs})
		}
	}
	if r.AddNode != nil {
		rows = append(rows, lab.TimingRow{Name: "(add a node)", Seconds: r.AddNode.Seconds, Note: fmt.Sprintf("   (thesis: %.1f)", r.AddNode.ThesisSeconds)})
	}
	r.WriteTiming(w, rows...)
	fmt.Fprintln(w)
}

// printKeep says how to reach the kept lab.
func printKeep(w io.Writer, l *lab.Lab, cluster bool) {
	fmt.Fprintf(w, " • The lab stays up (--keep). Reach a machine with, for example:\n")
	for _, m := range l.Machines()[:2] {
		argv, _ := l.SSHCommand(m.Name)
		fmt.Fprintf(w, "     %s   # %s\n", strings.Join(argv, " "), m.Name)
	}
	if argv, err := l.SSHCommand("master01", "kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf", "get", "pods", "-A", "-o", "wide"); err == nil && cluster {
		fmt.Fprintf(w, "   and the cluster with:\n     %s\n", strings.Join(argv, " "))
	}
	fmt.Fprintf(w, "   Remove it with: go run ./examples/thesis --down\n")
}

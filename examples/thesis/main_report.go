package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// report is the run as --report writes it.
type report struct {
	Before            lab.Matrix     `json:"before"`
	After             lab.Matrix     `json:"after"`
	Steps             []stepReport   `json:"steps"`
	Skipped           []skippedLayer `json:"skippedLayers,omitempty"`
	Layers            []string       `json:"layers"`
	ImageBuildSeconds float64        `json:"imageBuildSeconds,omitempty"`
	LabUpSeconds      float64        `json:"labUpSeconds"`
	ApplySeconds      float64        `json:"applySeconds"`
	MachinesSeconds   float64        `json:"machinesSeconds"`
	ConvergeSeconds   float64        `json:"convergeSeconds"`
	ReapplySeconds    float64        `json:"reapplySeconds"`
	ReapplyChanges    []string       `json:"reapplyChanges,omitempty"`
	TotalSeconds      float64        `json:"totalSeconds"`
	Geo               *geoReport     `json:"geo,omitempty"` // --geo (main_geo.go)

	// The Kubernetes cluster (thesis §5), when --cluster.
	Cluster          bool              `json:"cluster"`
	NodeImageSeconds float64           `json:"nodeImageSeconds,omitempty"`
	NodeImageCached  bool              `json:"nodeImageCached,omitempty"`
	ClusterSeconds   float64           `json:"clusterSeconds,omitempty"`
	Nodes            []nodeReport      `json:"nodes,omitempty"`
	Deployment       *deploymentReport `json:"deployment,omitempty"`
	AddNode          *addNodeReport    `json:"addNode,omitempty"`
	MasterLoss       *masterLossReport `json:"masterLoss,omitempty"`
	Resources        *resourceReport   `json:"resources,omitempty"`
	// HostSysctlsChanged lists host-wide kernel settings the cluster
	// changed on this machine; it must stay empty.
	HostSysctlsChanged []string `json:"hostSysctlsChanged,omitempty"`

	Check string `json:"check"`
}

type stepReport struct {
	ID      string  `json:"id"`
	Seconds float64 `json:"seconds"`
	Outcome string  `json:"outcome"`
	Action  string  `json:"action,omitempty"`
	Error   string  `json:"error,omitempty"`
}

type skippedLayer struct {
	Layer  string `json:"layer"`
	Reason string `json:"reason"`
}

func (r *report) passed() bool { return r.Check == "PASS" }

// finish records the steps of every walk and the time spent in walks.
func (r *report) finish(results []*plan.Result, layers []string) {
	r.Layers = layers
	r.Steps = nil
	r.ApplySeconds = 0
	for _, res := range results {
		if res == nil {
			continue
		}
		r.ApplySeconds += res.Duration.Seconds()
		for _, s := range res.Steps {
			sr := stepReport{ID: s.ID, Seconds: round(s.Duration.Seconds()), Outcome: string(s.Outcome), Action: string(s.Action)}
			if s.Err != nil {
				sr.Error = s.Err.Error()
			}
			r.Steps = append(r.Steps, sr)
		}
	}
	r.ApplySeconds = round(r.ApplySeconds)
}

func round(s float64) float64 { return float64(int64(s*1000+0.5)) / 1000 }

func (r *report) writeFile(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// check compares the run with the thesis: before the tunnels exactly the
// pairs within a site answer, after them every pair does, every step of the
// plan succeeded, and the routers layer, which makes the tunnels, ran.
func check(t *topology.Topology, r *report) string {
	site := map[string]string{}
	for _, m := range t.Machines() {
		site[m.Name] = m.Site.Name
	}
	var problems []string
	if !slices.Contains(r.Layers, "routers") {
		problems = append(problems, "the routers layer is not in this build, so no tunnel was made")
	}
	var wrongBefore []string
	for _, p := range r.Before.Pairs {
		if same := site[p.From] == site[p.To]; p.Reachable != same {
			wrongBefore = append(wrongBefore, pairWord(p))
		}
	}
	if len(r.Before.Pairs) == 0 {
		problems = append(problems, "no matrix before the tunnels")
	}
	if len(wrongBefore) > 0 {
		problems = append(problems, fmt.Sprintf("before the tunnels %d pairs differ from table 4.6 (%s)", len(wrongBefore), abbreviate(wrongBefore)))
	}
	var broken []string
	for _, p := range r.After.Unreachable() {
		broken = append(broken, pairWord(p))
	}
	if len(r.After.Pairs) == 0 {
		problems = append(problems, "no matrix after the tunnels")
	}
	if len(broken) > 0 {
		problems = append(problems, fmt.Sprintf("after the tunnels %d pairs are unreachable (%s)", len(broken), abbreviate(broken)))
	}
	if len(r.ReapplyChanges) > 0 {
		problems = append(problems, fmt.Sprintf("a second apply changed %d steps (%s)", len(r.ReapplyChanges), abbreviate(r.ReapplyChanges)))
	}
	var failed []string
	for _, s := range r.Steps {
		if s.Outcome != string(plan.Done) {
			failed = append(failed, s.ID+" "+s.Outcome)
		}
	}
	if len(failed) > 0 {
		problems = append(problems, fmt.Sprintf("%d steps did not succeed (%s)", len(failed), abbreviate(failed)))
	}
	if r.Cluster {
		problems = append(problems, checkCluster(t, r)...)
	}
	if len(problems) == 0 {
		return "PASS"
	}
	return "FAIL: " + strings.Join(problems, "; ")
}

func pairWord(p lab.Pair) string {
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

// printPhase prints the lab's phases kind-style.
func printPhase(w io.Writer, e lab.Event) {
	switch {
	case !e.Done:
		return
	case e.Err != nil:
		fmt.Fprintf(w, " ✗ %s: %v\n", e.Phase, e.Err)
	default:
		fmt.Fprintf(w, " ✓ %s (%s)\n", e.Phase, e.Elapsed.Round(100*time.Millisecond))
	}
}

// printRTTs prints the round trip times between sites through the tunnels,
// from each router's LAN side to every host of the other sites.
func printRTTs(w io.Writer, t *topology.Topology, m lab.Matrix) {
	fmt.Fprintln(w, "Round trip times across sites (ms, average of 3 pings):")
	site := map[string]string{}
	for _, mc := range t.Machines() {
		site[mc.Name] = mc.Site.Name
	}
	n := 0
	for _, p := range m.Pairs {
		if site[p.From] == site[p.To] || !p.Reachable {
			continue
		}
		fmt.Fprintf(w, "  %-9s -> %-9s %7.3f\n", p.From, p.To, float64(p.RTT)/float64(time.Millisecond))
		n++
	}
	if n == 0 {
		fmt.Fprintln(w, "  (no pair across sites answered)")
	}
}

// printTiming prints the per-step timing table and the totals.
func printTiming(w io.Writer, r *report) {
	fmt.Fprintln(w, "\nTiming:")
	width := len("(cluster: apply to all Ready)")
	for _, s := range r.Steps {
		width = max(width, len(s.ID))
	}
	fmt.Fprintf(w, "  %-*s %-8s %8s\n", width, "step", "outcome", "seconds")
	unchanged := 0
	for _, s := range r.Steps {
		// Steps that found nothing to do are in --report, not here.
		if s.Action == string(plan.NoOp) && s.Outcome == string(plan.Done) {
			unchanged++
			continue
		}
		fmt.Fprintf(w, "  %-*s %-8s %8.3f\n", width, s.ID, s.Outcome, s.Seconds)
	}
	if unchanged > 0 {
		fmt.Fprintf(w, "  (%d more steps found nothing to change)\n", unchanged)
	}
	if r.ImageBuildSeconds > 0 {
		fmt.Fprintf(w, "  %-*s %-8s %8.3f\n", width, "(node image build)", "", r.ImageBuildSeconds)
	}
	fmt.Fprintf(w, "  %-*s %-8s %8.3f\n", width, "(lab up)", "", r.LabUpSeconds)
	fmt.Fprintf(w, "  %-*s %-8s %8.3f\n", width, "(machines of VMs start)", "", r.MachinesSeconds)
	fmt.Fprintf(w, "  %-*s %-8s %8.3f\n", width, "(apply, all walks)", "", r.ApplySeconds)
	fmt.Fprintf(w, "  %-*s %-8s %8.3f\n", width, "(tunnels converge)", "", r.ConvergeSeconds)
	fmt.Fprintf(w, "  %-*s %-8s %8.3f\n", width, "(second apply, no-op)", "", r.ReapplySeconds)
	if r.Cluster {
		fmt.Fprintf(w, "  %-*s %-8s %8.3f\n", width, "(Kubernetes node image)", "", r.NodeImageSeconds)
		fmt.Fprintf(w, "  %-*s %-8s %8.3f\n", width, "(cluster: apply to all Ready)", "", r.ClusterSeconds)
		if r.Deployment != nil {
			fmt.Fprintf(w, "  %-*s %-8s %8.3f\n", width, "(deployment Ready)", "", r.Deployment.Seconds)
		}
		if r.AddNode != nil {
			fmt.Fprintf(w, "  %-*s %-8s %8.3f   (thesis: %.1f)\n", width, "(add a node)", "", r.AddNode.Seconds, r.AddNode.ThesisSeconds)
		}
		if r.MasterLoss != nil {
			fmt.Fprintf(w, "  %-*s %-8s %8.3f\n", width, "(master back after restart)", "", r.MasterLoss.RecoverSeconds)
		}
	}
	fmt.Fprintf(w, "  %-*s %-8s %8.3f   (wall clock, matrices included)\n\n", width, "total", "", r.TotalSeconds)
}

// printKeep says how to reach the kept lab.
func printKeep(w io.Writer, l *lab.Lab, cluster bool) {
	fmt.Fprintf(w, " • The lab stays up (--keep). Reach a machine with, for example:\n")
	for _, m := range l.Machines()[:2] {
		fmt.Fprintf(w, "     ssh -i %s -o UserKnownHostsFile=%s root@%s   # %s\n", l.IdentityFile(), l.KnownHostsFile(), m.Address, m.Name)
	}
	if m, ok := l.Machine("master01"); ok && cluster {
		fmt.Fprintf(w, "   and the cluster with:\n     ssh -i %s -o UserKnownHostsFile=%s root@%s kubectl --kubeconfig /etc/kubernetes/admin.conf get pods -A -o wide\n",
			l.IdentityFile(), l.KnownHostsFile(), m.Address)
	}
	fmt.Fprintf(w, "   Remove it with: go run ./examples/thesis --down\n")
}

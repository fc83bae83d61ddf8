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
	"github.com/planetstage/planetstage/layer"
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
	Geo               *geoReport     `json:"geo,omitempty"`

	// The Kubernetes cluster (thesis §5), when --cluster (cluster.go).
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

func (r *report) passed() bool { return r.Check == "PASS" || r.Check == appliedOnly }

// add records a walk's steps and time.
func (r *report) add(res *plan.Result) {
	if res == nil {
		return
	}
	r.ApplySeconds = seconds(time.Duration(r.ApplySeconds*float64(time.Second)) + res.Duration)
	for _, s := range res.Steps {
		sr := stepReport{ID: s.ID, Seconds: seconds(s.Duration), Outcome: string(s.Outcome), Action: string(s.Action)}
		if s.Err != nil {
			sr.Error = s.Err.Error()
		}
		r.Steps = append(r.Steps, sr)
	}
}

// phase records the lab's phases that the timing table shows.
func (r *report) phase(e lab.Event) {
	if !e.Done || e.Err != nil {
		return
	}
	switch e.Phase {
	case lab.PhaseImage:
		r.ImageBuildSeconds = seconds(e.Elapsed)
	case lab.PhaseNodeImage:
		r.NodeImageSeconds, r.NodeImageCached = seconds(e.Elapsed), e.Cached
	case lab.PhaseConverge:
		r.ConvergeSeconds = seconds(e.Elapsed)
	}
}

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
	if !slices.Contains(r.Layers, layer.Routers) {
		problems = append(problems, "the routers layer is not in this build, so no tunnel was made")
	}
	var wrongBefore, broken, failed []string
	for _, p := range r.Before.Pairs {
		if same := site[p.From] == site[p.To]; p.Reachable != same {
			wrongBefore = append(wrongBefore, pairWord(p))
		}
	}
	for _, p := range r.After.Unreachable() {
		broken = append(broken, pairWord(p))
	}
	for _, s := range r.Steps {
		if s.Outcome != string(plan.Done) {
			failed = append(failed, s.ID+" "+s.Outcome)
		}
	}
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
		if e.Phase == lab.PhaseNodeImage {
			fmt.Fprintf(w, " • %s\n", e) // long the first time: say so before
		}
	case e.Err != nil:
		fmt.Fprintf(w, " ✗ %s: %v\n", e, e.Err)
	default:
		fmt.Fprintf(w, " ✓ %s (%s)\n", e, e.Elapsed.Round(100*time.Millisecond))
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
		if site[p.From] != site[p.To] && p.Reachable {
			fmt.Fprintf(w, "  %-9s -> %-9s %7.3f\n", p.From, p.To, float64(p.RTT)/float64(time.Millisecond))
			n++
		}
	}
	if n == 0 {
		fmt.Fprintln(w, "  (no pair across sites answered)")
	}
}

// printTiming prints the steps that did something, and the run's totals.
func printTiming(w io.Writer, r *report) {
	fmt.Fprintln(w, "\nTiming:")
	width := len("(cluster: apply to all Ready)")
	for _, s := range r.Steps {
		width = max(width, len(s.ID))
	}
	row := func(name, outcome string, secs float64, note string) {
		fmt.Fprintf(w, "  %-*s %-8s %8.3f%s\n", width, name, outcome, secs, note)
	}
	fmt.Fprintf(w, "  %-*s %-8s %8s\n", width, "step", "outcome", "seconds")
	unchanged := 0
	for _, s := range r.Steps {
		// Steps that found nothing to do are in --report, not here.
		if s.Action == string(plan.NoOp) && s.Outcome == string(plan.Done) {
			unchanged++
			continue
		}
		row(s.ID, s.Outcome, s.Seconds, "")
	}
	if unchanged > 0 {
		fmt.Fprintf(w, "  (%d more steps found nothing to change)\n", unchanged)
	}
	for _, t := range []struct {
		name string
		secs float64
		show bool
	}{
		{"(lab image build)", r.ImageBuildSeconds, r.ImageBuildSeconds > 0},
		{"(Kubernetes node image)", r.NodeImageSeconds, r.Cluster},
		{"(lab up)", r.LabUpSeconds, true},
		{"(machines: VMs and their containers)", r.MachinesSeconds, true},
		{"(apply, all walks)", r.ApplySeconds, true},
		{"(tunnels converge)", r.ConvergeSeconds, true},
		{"(second apply, no-op)", r.ReapplySeconds, true},
		{"(cluster: apply to all Ready)", r.ClusterSeconds, r.Cluster},
		{"(deployment Ready)", deploymentSeconds(r), r.Deployment != nil},
		{"(master back after restart)", masterSeconds(r), r.MasterLoss != nil},
	} {
		if t.show {
			row(t.name, "", t.secs, "")
		}
	}
	if r.AddNode != nil {
		row("(add a node)", "", r.AddNode.Seconds, fmt.Sprintf("   (thesis: %.1f)", r.AddNode.ThesisSeconds))
	}
	row("total", "", r.TotalSeconds, "   (wall clock, matrices included)\n")
}

// printKeep says how to reach the kept lab.
func printKeep(w io.Writer, l *lab.Lab, cluster bool) {
	ssh := fmt.Sprintf("ssh -i %s -o UserKnownHostsFile=%s", l.IdentityFile(), l.KnownHostsFile())
	fmt.Fprintf(w, " • The lab stays up (--keep). Reach a machine with, for example:\n")
	for _, m := range l.Machines()[:2] {
		fmt.Fprintf(w, "     %s root@%s   # %s\n", ssh, m.Address, m.Name)
	}
	if m, ok := l.Machine("master01"); ok && cluster {
		fmt.Fprintf(w, "   and the cluster with:\n     %s root@%s kubectl --kubeconfig /etc/kubernetes/admin.conf get pods -A -o wide\n", ssh, m.Address)
	}
	fmt.Fprintf(w, "   Remove it with: go run ./examples/thesis --down\n")
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/kubeadm"
	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/reach"
	"github.com/planetstage/planetstage/testbed"
)

// matrix builds a matrix of t's machines where reachable decides each pair.
func matrix(reachable func(from, to string) bool) reach.Matrix {
	var m reach.Matrix
	ms := Thesis().Machines()
	for _, a := range ms {
		m.Machines = append(m.Machines, a.Name)
		for _, b := range ms {
			if a.Name != b.Name {
				m.Pairs = append(m.Pairs, reach.Pair{From: a.Name, To: b.Name, Reachable: reachable(a.Name, b.Name)})
			}
		}
	}
	return m
}

func TestCheck(t *testing.T) {
	t.Parallel()
	th := Thesis()
	site := map[string]string{}
	for _, m := range th.Machines() {
		site[m.Name] = m.Site.Name
	}
	sameSite := func(a, b string) bool { return site[a] == site[b] }
	all := func(a, b string) bool { return true }
	good := func() *report {
		return &report{Before: matrix(sameSite), After: matrix(all), Report: lab.Report{Layers: []string{"machines", "routers", "lb", "cluster"},
			Steps: []lab.StepTime{{ID: "routers/vyos01", Outcome: "done"}}}}
	}
	tests := []struct {
		name   string
		modify func(*report)
		want   string
	}{
		{name: "thesis tables 4.6 and 4.7", modify: func(*report) {}, want: "PASS"},
		{name: "a cross-site pair reachable before", modify: func(r *report) {
			r.Before = matrix(func(a, b string) bool { return sameSite(a, b) || (a == "lb" && b == "node01") })
		}, want: "FAIL: before the tunnels 1 pairs differ from table 4.6 (lb->node01 reachable)"},
		{name: "a pair broken after", modify: func(r *report) {
			r.After = matrix(func(a, b string) bool { return !(a == "node03" && b == "master02") })
		}, want: "FAIL: after the tunnels 1 pairs are unreachable (node03->master02 unreachable)"},
		{name: "a failed step", modify: func(r *report) {
			r.Steps = append(r.Steps, lab.StepTime{ID: "routers/vyos02", Outcome: "failed"}, lab.StepTime{ID: "lb/haproxy/lb", Outcome: "skipped"})
		}, want: "FAIL: 2 steps did not succeed (routers/vyos02 failed, lb/haproxy/lb skipped)"},
		{name: "second apply changed something", modify: func(r *report) { r.ReapplyChanges = []string{"routers/vyos01: tunnel config differs"} },
			want: "FAIL: a second apply changed 1 steps (routers/vyos01: tunnel config differs)"},
		{name: "no routers layer", modify: func(r *report) { r.Layers = []string{"machines"} },
			want: "FAIL: the routers layer is not in this build, so no tunnel was made"},
		{name: "nothing measured", modify: func(r *report) { r.Before, r.After = reach.Matrix{}, reach.Matrix{} },
			want: "FAIL: no matrix before the tunnels; no matrix after the tunnels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := good()
			tt.modify(r)
			assert.Equal(t, tt.want, check(th, r, true))
		})
	}
	// On hardware the same checks, and the same PASS.
	assert.Equal(t, "PASS", check(th, good(), false))
	bad := good()
	bad.After = matrix(func(a, b string) bool { return a != "lb" })
	assert.Contains(t, check(th, bad, false), "FAIL: after the tunnels")
}

func TestReportJSON(t *testing.T) {
	t.Parallel()
	r := &report{Before: matrix(func(a, b string) bool { return false }), After: matrix(func(a, b string) bool { return true }),
		Report: lab.Report{Steps: []lab.StepTime{{ID: "esxi/vm/node03", Seconds: 1.5, Outcome: "done"}}, TotalSeconds: 12.25}, Check: "PASS",
		AddNode:   &addNodeReport{NodeAddition: testbed.NodeAddition{Node: "node05", Site: "site-b", Seconds: 20.5, Ready: true}, ThesisSeconds: 615.4},
		Resources: &lab.UsageTotal{MemoryMiB: 10, CPUPct: 1.5, PerMachine: map[string]float64{"lb": 10}}}
	path := filepath.Join(t.TempDir(), "r.json")
	require.NoError(t, r.writeFile(path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(data, &got))
	assert.Equal(t, "PASS", got["check"])
	assert.Equal(t, 12.25, got["totalSeconds"])
	steps := got["steps"].([]any)
	assert.Equal(t, map[string]any{"id": "esxi/vm/node03", "seconds": 1.5, "outcome": "done"}, steps[0])
	assert.Equal(t, map[string]any{"node": "node05", "site": "site-b", "seconds": 20.5, "ready": true, "thesisSeconds": 615.4}, got["addNode"])
	assert.Equal(t, map[string]any{"memoryMiB": 10.0, "cpuPct": 1.5, "memoryMiBPerMachine": map[string]any{"lb": 10.0}}, got["resources"])
	hosts := got["after"].(map[string]any)["hosts"].([]any)
	assert.Len(t, hosts, 11*10)
	assert.Equal(t, true, hosts[0].(map[string]any)["reachable"])
}

func TestFlags(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run(t.Context(), []string{"--no-such-flag"}, &out, &errOut))
	assert.Contains(t, errOut.String(), "no-such-flag")
	assert.Equal(t, 2, run(t.Context(), []string{"extra"}, &out, &errOut))
}

// TestCheckCluster: the thesis's cluster evaluation, each way it can fail.
func TestCheckCluster(t *testing.T) {
	t.Parallel()
	th := Thesis()
	good := func() *report {
		r := &report{Cluster: true}
		for _, m := range th.Machines() {
			if m.Role == "control-plane" || m.Role == "worker" {
				r.Nodes = append(r.Nodes, kubeadm.NodeStatus{Name: m.Name, Ready: true, InternalIP: m.Address.String()})
			}
		}
		r.Deployment = &kubeadm.Spread{Replicas: 4, Nodes: []string{"node01", "node02", "node03", "node04"}, Reached: 4}
		r.AddNode = &addNodeReport{NodeAddition: testbed.NodeAddition{Node: "node05", Ready: true, Seconds: 20}}
		r.MasterLoss = &testbed.ControlPlaneLoss{Master: "master01", APIReachable: true, Recovered: true}
		return r
	}
	tests := []struct {
		name   string
		modify func(*report)
		want   []string
	}{
		{name: "the thesis's cluster", modify: func(*report) {}},
		{name: "a node not Ready", modify: func(r *report) { r.Nodes[4].Ready = false }, want: []string{"node node02 not Ready"}},
		{name: "a site's nodes on the wrong subnet", modify: func(r *report) { r.Nodes[5].InternalIP, r.Nodes[6].InternalIP = "172.17.0.4", "172.17.0.5" },
			want: []string{`node node04 has internal IP "172.17.0.5", not in its site 192.168.30.0/24`}},
		{name: "a node missing", modify: func(r *report) { r.Nodes = r.Nodes[:6] }, want: []string{"node node04 missing"}},
		{name: "replicas stacked on one worker", modify: func(r *report) { r.Deployment.Nodes = []string{"node01", "node02", "node03"} },
			want: []string{"the deployment's 4 replicas run on 3 distinct workers"}},
		{name: "a replica unreachable through the API", modify: func(r *report) { r.Deployment.Reached = 3 },
			want: []string{"3 of 4 replicas answered through the API"}},
		{name: "added node not Ready", modify: func(r *report) { r.AddNode.Ready = false }, want: []string{"the added worker is not Ready"}},
		{name: "API down with a master", modify: func(r *report) { r.MasterLoss.APIReachable = false },
			want: []string{"the API did not answer with a master down"}},
		{name: "master never back", modify: func(r *report) { r.MasterLoss.Recovered = false },
			want: []string{"the stopped master did not come back"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := good()
			tt.modify(r)
			got := checkCluster(th, r, true)
			if len(tt.want) == 0 {
				assert.Empty(t, got)
				return
			}
			for _, w := range tt.want {
				assert.Condition(t, func() bool {
					for _, g := range got {
						if strings.Contains(g, w) {
							return true
						}
					}
					return false
				}, "want %q in %q", w, got)
			}
		})
	}
}

func TestCheckClusterNamesChangedSysctls(t *testing.T) {
	t.Parallel()
	r := &report{Cluster: true, HostSysctlsChanged: []string{"kernel/panic 0 -> 10"}}
	assert.Contains(t, strings.Join(checkCluster(Thesis(), r, true), "; "), "the kubelets changed this machine's kernel settings: kernel/panic 0 -> 10")
}

// TestCheckClusterOnHardware: on hardware the cluster is checked as in the
// lab, adding a node and losing a master included; only the lab's own
// check (this machine's kernel settings, which only the lab's kubelets
// share) is left out.
func TestCheckClusterOnHardware(t *testing.T) {
	t.Parallel()
	th := Thesis()
	r := &report{Cluster: true, Deployment: &kubeadm.Spread{Replicas: 4, Nodes: []string{"node01", "node02", "node03", "node04"}, Reached: 4},
		HostSysctlsChanged: []string{"kernel/panic 0 -> 10"}}
	for _, m := range th.Machines() {
		if m.Role == "control-plane" || m.Role == "worker" {
			r.Nodes = append(r.Nodes, kubeadm.NodeStatus{Name: m.Name, Ready: true, InternalIP: m.Address.String()})
		}
	}
	assert.Equal(t, []string{"the API did not answer with a master down", "the added worker is not Ready"}, checkCluster(th, r, false),
		"the experiments are asked for on hardware too")
	r.AddNode = &addNodeReport{NodeAddition: testbed.NodeAddition{Node: "node05", Ready: true, Seconds: 300}}
	r.MasterLoss = &testbed.ControlPlaneLoss{Master: "master01", APIReachable: true, Recovered: true}
	assert.Empty(t, checkCluster(th, r, false))
	r.Deployment.Reached = 2
	assert.Equal(t, []string{"2 of 4 replicas answered through the API"}, checkCluster(th, r, false))
}

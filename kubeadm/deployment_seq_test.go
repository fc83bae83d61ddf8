package kubeadm

// Sequence tests of DeployDeployment, ProxyGet/ProxyEachPod and the API
// probe against kubeadmtest.FakeHosts, a FAKE set of machines answering from
// a script (see sequence_test.go). No Kubernetes runs: they check which
// commands go where and what the code makes of the answers.

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/planetstage/planetstage/kubeadm/kubeadmtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeRollout scripts kubectl's answers while a deployment rolls out: the
// Deployment's status and its pods by poll (a poll is one `get deployment`),
// pod proxy replies by pod, and /readyz.
type fakeRollout struct {
	mu     sync.Mutex
	polls  int
	status func(poll int) string
	pods   func(poll int) string
	proxy  map[string]kubeadmtest.Reply
	readyz kubeadmtest.Reply
}

func (f *fakeRollout) script(_, command string) kubeadmtest.Reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case strings.Contains(command, "get deployment"):
		f.polls++
		return kubeadmtest.Reply{Stdout: f.status(f.polls)}
	case strings.Contains(command, "get pods"):
		return kubeadmtest.Reply{Stdout: f.pods(f.polls)}
	case strings.Contains(command, "/readyz"):
		return f.readyz
	case strings.Contains(command, "/proxy/"):
		for pod, reply := range f.proxy {
			if strings.Contains(command, "/pods/"+pod+":") {
				return reply
			}
		}
		return kubeadmtest.Reply{Status: 1, Stderr: "Error from server (NotFound): pods not found"}
	}
	return kubeadmtest.Reply{}
}

func (f *fakeRollout) pollCount() int { f.mu.Lock(); defer f.mu.Unlock(); return f.polls }

// podLine is one line of deploymentPodsJSONPath's output: name, node, IP,
// phase, Ready, deletionTimestamp, reason.
func podLine(fields ...string) string { return strings.Join(fields, "\t") + "\n" }

// fourReady is the nginx spread over the four workers, all Ready.
var fourReady = podLine("nginx-a", "node01", "10.244.3.2", "Running", "True", "", "") +
	podLine("nginx-b", "node02", "10.244.4.2", "Running", "True", "", "") +
	podLine("nginx-d", "node04", "10.244.6.2", "Running", "True", "", "") +
	podLine("nginx-c", "node03", "10.244.5.2", "Running", "True", "", "")

func constant(s string) func(int) string { return func(int) string { return s } }

func newRolloutBootstrapper(t *testing.T, f *fakeRollout) (*Bootstrapper, *kubeadmtest.FakeHosts) {
	t.Helper()
	b, hosts, _ := newTestBootstrapper(t, f.script)
	return b, hosts
}

func TestSequenceDeployDeploymentWaitsForRollout(t *testing.T) {
	t.Parallel()
	f := &fakeRollout{
		status: func(poll int) string {
			switch poll {
			case 1:
				return "2\t1\t4\t0\t4" // the controller has not seen the new spec
			case 2:
				return "2\t2\t4\t4\t3"
			case 3:
				return "2\t2\t5\t4\t4" // an old replica is still there
			}
			return "2\t2\t4\t4\t4"
		},
		pods: func(poll int) string {
			switch poll {
			case 1:
				return fourReady // the old version's pods: Ready, but not the rollout
			case 2:
				return strings.Replace(fourReady, "node04\t10.244.6.2\tRunning\tTrue", "node04\t10.244.6.3\tPending\tFalse", 1)
			}
			// A replaced pod on its way out is not reported.
			return fourReady + podLine("nginx-old", "node02", "10.244.4.9", "Running", "True", "2026-11-27T12:00:00Z", "")
		},
	}
	b, hosts := newRolloutBootstrapper(t, f)
	pods, err := b.DeployDeployment(context.Background(), thesisNginx())
	require.NoError(t, err)
	assert.Equal(t, 4, f.pollCount(), "done only once observed, updated, ready and total all match")
	assert.Equal(t, []PodReport{
		{Node: "node01", Pod: "nginx-a", Phase: "Running", Ready: true, PodIP: "10.244.3.2"},
		{Node: "node02", Pod: "nginx-b", Phase: "Running", Ready: true, PodIP: "10.244.4.2"},
		{Node: "node03", Pod: "nginx-c", Phase: "Running", Ready: true, PodIP: "10.244.5.2"},
		{Node: "node04", Pod: "nginx-d", Phase: "Running", Ready: true, PodIP: "10.244.6.2"},
	}, pods)
	assert.Equal(t, []string{"node01", "node02", "node03", "node04"}, ReadyNodes(pods))

	log := hosts.Log()
	apply := indexOf(log, "master01", "run", kubectl("apply -f -"))
	require.GreaterOrEqual(t, apply, 0, "%v", hosts.Commands())
	assert.Contains(t, log[apply].Stdin, `"kind": "Deployment"`)
	assert.Contains(t, log[apply].Stdin, `"nodeTaintsPolicy": "Honor"`)
	assert.Contains(t, hosts.Commands(), "master01 "+kubectl("get pods -n default -l app=nginx -o "+
		"'jsonpath="+deploymentPodsJSONPath+"'"))
	for _, e := range log {
		assert.Equal(t, "master01", e.Host, "everything runs on the first control plane while it is up")
	}
}

func TestSequenceDeployDeploymentNamesPodsNotReady(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pods    string
		podsErr bool
		want    []string
	}{
		{
			name: "image missing and unschedulable",
			pods: podLine("nginx-a", "node01", "10.244.3.2", "Running", "True", "", "") +
				podLine("nginx-b", "node02", "10.244.4.2", "Running", "True", "", "") +
				podLine("nginx-c", "node03", "10.244.5.2", "Pending", "False", "", "ErrImageNeverPull") +
				podLine("nginx-d", "", "", "Pending", "", "", "0/7 nodes are available: 3 node(s) had untolerated taint, 4 node(s) didn't match pod topology spread constraints."),
			want: []string{
				`deployment "nginx": 2 of 4 replicas Ready after 50ms`,
				"nginx-c on node03 (Pending: ErrImageNeverPull)",
				"nginx-d not scheduled (Pending: 0/7 nodes are available: 3 node(s) had untolerated taint, 4 node(s) didn't match pod topology spread constraints.)",
			},
		},
		{
			name: "running but failing its probe",
			pods: strings.Replace(fourReady, "node03\t10.244.5.2\tRunning\tTrue", "node03\t10.244.5.2\tRunning\tFalse", 1),
			want: []string{"3 of 4 replicas Ready", "nginx-c on node03 (Running)"},
		},
		{
			name:    "kubectl keeps failing",
			podsErr: true,
			want:    []string{"0 of 4 replicas Ready", "last kubectl error", "list pods", "the server is currently unable to handle the request"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeRollout{status: constant("1\t1\t4\t4\t2"), pods: constant(tt.pods)}
			b, _, _ := newTestBootstrapper(t, func(host, command string) kubeadmtest.Reply {
				if tt.podsErr && strings.Contains(command, "get pods") {
					return kubeadmtest.Reply{Status: 1, Stderr: "Error from server (ServiceUnavailable): the server is currently unable to handle the request"}
				}
				return f.script(host, command)
			})
			d := thesisNginx()
			d.Timeout = 50 * time.Millisecond
			pods, err := b.DeployDeployment(context.Background(), d)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "nginx-a", "a Ready pod is not named")
			if !tt.podsErr {
				assert.Len(t, pods, 4, "the last answer is the report")
			}
		})
	}
}

// TestSequenceFirstMasterDown: with master01 stopped, kubectl work moves to
// master02, and the API probe says where it was answered.
func TestSequenceFirstMasterDown(t *testing.T) {
	t.Parallel()
	f := &fakeRollout{status: constant("1\t1\t4\t4\t4"), pods: constant(fourReady), readyz: kubeadmtest.Reply{Stdout: "ok"}}
	b, hosts := newRolloutBootstrapper(t, f)
	hosts.SetDown("master01", true)
	ctx := context.Background()

	pods, err := b.DeployDeployment(ctx, thesisNginx())
	require.NoError(t, err)
	assert.Len(t, ReadyNodes(pods), 4)
	assert.GreaterOrEqual(t, indexOf(hosts.Log(), "master02", "run", kubectl("apply -f -")), 0)
	tried := 0
	for _, e := range hosts.Log() {
		if e.Host == "master01" {
			assert.Equal(t, "down", e.Op, "nothing ran on the stopped master")
			tried++
		}
	}
	assert.Equal(t, 1, tried, "once master02 answered, later calls start there")

	err = b.APIReachable(ctx, "master01")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "via master01")
	assert.Contains(t, err.Error(), "connection refused")
	require.NoError(t, b.APIReachable(ctx, "master02"))
	assert.Contains(t, hosts.Commands(), "master02 "+kubectl("--request-timeout=10s get --raw /readyz"))
	via, err := b.APIReachableAny(ctx)
	require.NoError(t, err)
	assert.Equal(t, "master02", via)

	err = b.APIReachable(ctx, "node01")
	assert.ErrorContains(t, err, `node "node01": kubectl: not a control plane`)

	// master01 back, master02 stopped: the next call moves again.
	hosts.SetDown("master01", false)
	hosts.SetDown("master02", true)
	via, err = b.APIReachableAny(ctx)
	require.NoError(t, err)
	assert.Equal(t, "master01", via)

	for _, cp := range []string{"master01", "master02", "master03"} {
		hosts.SetDown(cp, true)
	}
	via, err = b.APIReachableAny(ctx)
	require.Error(t, err)
	assert.Empty(t, via)
	assert.Contains(t, err.Error(), "no control plane could run kubectl")
	for _, cp := range []string{"master01", "master02", "master03"} {
		assert.Contains(t, err.Error(), `node "`+cp+`"`)
	}
}

// TestSequenceKubectlFailureIsTheAnswer: a kubectl that ran and failed is
// not a reason to ask the next control plane.
func TestSequenceKubectlFailureIsTheAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		readyz kubeadmtest.Reply
		want   string
	}{
		{"exit status", kubeadmtest.Reply{Status: 1, Stderr: "[-]etcd failed: reason withheld\nreadyz check failed"}, "readyz check failed"},
		{"not ok", kubeadmtest.Reply{Stdout: "[+]ping ok\n[-]etcd failed"}, `/readyz answered "[+]ping ok\n[-]etcd failed", not ok`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeRollout{readyz: tt.readyz}
			b, hosts := newRolloutBootstrapper(t, f)
			via, err := b.APIReachableAny(context.Background())
			require.Error(t, err)
			assert.Equal(t, "master01", via)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "api 192.168.10.253:6443 via master01")
			for _, c := range hosts.Commands() {
				assert.True(t, strings.HasPrefix(c, "master01 "), "asked beyond master01: %s", c)
			}
			assert.Error(t, b.APIReachable(context.Background(), "master01"))
		})
	}
}

func TestSequenceProxyEachPod(t *testing.T) {
	t.Parallel()
	pods := strings.Replace(fourReady, "nginx-d\tnode04\t10.244.6.2\tRunning\tTrue", "nginx-d\tnode04\t\tPending\tFalse", 1)
	f := &fakeRollout{status: constant("1\t1\t4\t4\t3"), pods: constant(pods), proxy: map[string]kubeadmtest.Reply{
		"nginx-a": {Stdout: "hello from nginx-a\n"},
		"nginx-b": {Status: 1, Stderr: "Error from server (ServiceUnavailable): error trying to reach service: dial tcp 10.244.4.2:8080: i/o timeout"},
		"nginx-c": {Stdout: "hello from nginx-c\n"},
	}}
	b, hosts := newRolloutBootstrapper(t, f)
	results, err := b.ProxyEachPod(context.Background(), thesisNginx(), "/")
	require.NoError(t, err)
	require.Len(t, results, 4)

	byPod := map[string]ProxyResult{}
	for _, r := range results {
		byPod[r.Pod] = r
	}
	assert.Equal(t, "hello from nginx-a\n", byPod["nginx-a"].Body)
	assert.NoError(t, byPod["nginx-a"].Err)
	assert.Equal(t, "node01", byPod["nginx-a"].Node)
	assert.Equal(t, "hello from nginx-c\n", byPod["nginx-c"].Body)
	require.Error(t, byPod["nginx-b"].Err)
	assert.Contains(t, byPod["nginx-b"].Err.Error(), `pod "nginx-b"`)
	assert.Contains(t, byPod["nginx-b"].Err.Error(), "dial tcp 10.244.4.2:8080: i/o timeout")
	assert.Empty(t, byPod["nginx-b"].Body)
	require.Error(t, byPod["nginx-d"].Err)
	assert.Contains(t, byPod["nginx-d"].Err.Error(), "not running (phase Pending)")

	cmds := hosts.Commands()
	assert.Contains(t, cmds, "master01 "+kubectl("--request-timeout=30s get --raw /api/v1/namespaces/default/pods/nginx-a:8080/proxy/"))
	for _, c := range cmds {
		assert.NotContains(t, c, "nginx-d:8080", "a pod that is not running is not asked")
	}

	body, err := b.ProxyGet(context.Background(), "", "nginx-c", 8080, "healthz?verbose=1")
	require.NoError(t, err)
	assert.Equal(t, "hello from nginx-c\n", body)
	assert.Contains(t, hosts.Commands(), "master01 "+kubectl("--request-timeout=30s get --raw '/api/v1/namespaces/default/pods/nginx-c:8080/proxy/healthz?verbose=1'"))

	before := len(hosts.Commands())
	for _, bad := range []struct {
		pod  string
		port int
		path string
		want string
	}{
		{"Nginx A", 8080, "/", `pod name "Nginx A"`},
		{"nginx-a", 0, "/", "port 0 is not a TCP port"},
		{"nginx-a", 8080, "/a b", "has spaces"},
	} {
		_, err := b.ProxyGet(context.Background(), "default", bad.pod, bad.port, bad.path)
		assert.ErrorContains(t, err, bad.want)
	}
	assert.Equal(t, before, len(hosts.Commands()), "bad input runs nothing")
}

func TestSequenceProxyEachPodNoPods(t *testing.T) {
	t.Parallel()
	b, _ := newRolloutBootstrapper(t, &fakeRollout{pods: constant("")})
	_, err := b.ProxyEachPod(context.Background(), thesisNginx(), "/")
	assert.ErrorContains(t, err, `deployment "nginx": no pods in namespace default`)
}

package kubeadm

// DeploySpread against kubeadmtest.FakeHosts (see deployment_seq_test.go):
// no Kubernetes runs.

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/kubeadm/kubeadmtest"
)

func TestSequenceDeploySpread(t *testing.T) {
	t.Parallel()
	f := &fakeRollout{status: constant("1\t1\t4\t4\t4"), pods: constant(fourReady), proxy: map[string]kubeadmtest.Reply{
		"nginx-a": {Stdout: "hello from nginx-a\n"},
		"nginx-b": {Status: 1, Stderr: "Error from server (ServiceUnavailable): dial tcp 10.244.4.2:8080: i/o timeout"},
		"nginx-c": {Stdout: "hello from nginx-c\n"},
		"nginx-d": {Stdout: "hello from nginx-d\n"},
	}}
	b, _ := newRolloutBootstrapper(t, f)
	s, err := b.DeploySpread(context.Background(), thesisNginx(), "/")
	require.NoError(t, err, "a replica that does not answer is counted, not an error")
	assert.Equal(t, []string{"node01", "node02", "node03", "node04"}, s.Nodes)
	assert.Equal(t, 3, s.Reached)
	require.Len(t, s.Answers, 4)
	assert.Equal(t, "nginx-b", s.Answers[1].Pod)
	assert.ErrorContains(t, s.Answers[1].Err, "i/o timeout")

	assert.Equal(t, []string{"3 of 4 replicas answered through the API"}, s.Problems(4))
	assert.Empty(t, Spread{Replicas: 2, Nodes: []string{"a", "b"}, Reached: 2}.Problems(2))
	assert.Equal(t, []string{"the deployment's 4 replicas run on 4 distinct workers ([node01 node02 node03 node04]), not 5",
		"3 of 4 replicas answered through the API"}, s.Problems(5))
	var text strings.Builder
	require.NoError(t, s.WriteText(&text))
	assert.Contains(t, text.String(), "Deployment nginx (planetstage.local/httpd:1), 4 replicas, Ready in ")
	assert.Regexp(t, `(?m)^  ✗ nginx-b +node02 +\S+ +.*i/o timeout$`, text.String())
	assert.Regexp(t, `(?m)^  ✓ nginx-a +node01 +\S+ +hello from nginx-a$`, text.String())

	data, err := json.Marshal(s)
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(data, &fields))
	assert.Equal(t, map[string]any{"name": "nginx", "image": "planetstage.local/httpd:1", "replicas": 4.0,
		"nodes": []any{"node01", "node02", "node03", "node04"}, "reached": 3.0, "seconds": fields["seconds"]}, fields,
		"the thesis's --report names; the answers are for printing")
}

func TestSequenceDeploySpreadNotReady(t *testing.T) {
	t.Parallel()
	pods := strings.Replace(fourReady, "nginx-d\tnode04\t10.244.6.2\tRunning\tTrue", "nginx-d\tnode04\t\tPending\tFalse", 1)
	f := &fakeRollout{status: constant("1\t1\t4\t4\t3"), pods: constant(pods)}
	b, hosts := newRolloutBootstrapper(t, f)
	d := thesisNginx()
	d.Timeout = 50 * time.Millisecond
	s, err := b.DeploySpread(context.Background(), d, "/")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "deployment nginx: ")
	assert.Contains(t, err.Error(), "nginx-d")
	assert.Equal(t, []string{"node01", "node02", "node03"}, s.Nodes, "what was seen is kept")
	assert.Zero(t, s.Reached)
	for _, c := range hosts.Commands() {
		assert.NotContains(t, c, "/proxy/", "no replica is asked before all are Ready")
	}
}

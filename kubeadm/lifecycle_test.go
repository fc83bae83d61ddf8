package kubeadm

// More sequence tests against the recording fake (see sequence_test.go):
// removal, deploy, and repair of interrupted runs.

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/planetstage/planetstage/kubeadm/kubeadmtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSequenceRemoveDrainsResetsDeletes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, hosts, _ := newTestBootstrapper(t, nil)
	require.NoError(t, b.Init(ctx))
	require.NoError(t, b.Join(ctx, "node04"))
	b.Cluster.Workers = b.Cluster.Workers[:3] // node04 leaves the topology
	gone, err := b.Departed()
	require.NoError(t, err)
	require.Equal(t, []Member{{Name: "node04", Address: "192.168.30.102"}}, gone)

	require.NoError(t, b.Remove(ctx, gone[0]))
	cmds := hosts.Commands()
	drain := slices.IndexFunc(cmds, func(c string) bool { return strings.HasPrefix(c, "master01 ") && strings.Contains(c, "drain node04") })
	reset := slices.IndexFunc(cmds, func(c string) bool { return strings.HasPrefix(c, "node04 kubeadm reset -f") })
	del := slices.IndexFunc(cmds, func(c string) bool {
		return strings.HasPrefix(c, "master01 ") && strings.Contains(c, "delete node node04")
	})
	require.True(t, drain >= 0 && reset >= 0 && del >= 0, "%v", cmds)
	assert.True(t, drain < reset && reset < del, "drain, reset, delete")
	gone, err = b.Departed()
	require.NoError(t, err)
	assert.Empty(t, gone)

	assert.ErrorContains(t, b.Remove(ctx, Member{Name: "master01"}), "first control plane")
}

func TestSequenceDeployReportsPerWorker(t *testing.T) {
	t.Parallel()
	pods := "node01\tweb-a\tRunning\ttrue\nnode02\tweb-b\tRunning\ttrue\nnode03\tweb-c\tPending\tfalse\n"
	b, hosts, _ := newTestBootstrapper(t, func(host, command string) kubeadmtest.Reply {
		if strings.Contains(command, "get pods") {
			return kubeadmtest.Reply{Stdout: pods}
		}
		return kubeadmtest.Reply{}
	})
	reports, err := b.Deploy(context.Background(), Workload{Name: "web", Image: "registry.local/nginx:1", Timeout: 300 * time.Millisecond})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "node03, node04")
	require.Len(t, reports, 4)
	assert.Equal(t, PodReport{Node: "node01", Pod: "web-a", Phase: "Running", Ready: true}, reports[0])
	assert.Equal(t, PodReport{Node: "node04", Phase: "NotScheduled"}, reports[3])

	var applied kubeadmtest.Entry
	for _, e := range hosts.Log() {
		if strings.Contains(e.What, "apply -f -") {
			applied = e
		}
	}
	assert.Equal(t, "master01", applied.Host)
	assert.Contains(t, applied.Stdin, `"kind": "DaemonSet"`)
	assert.Contains(t, applied.Stdin, `"image": "registry.local/nginx:1"`)

	_, err = b.Deploy(context.Background(), Workload{Name: "Bad Name", Image: ""})
	assert.ErrorContains(t, err, "Bad Name")
}

func TestSequenceInterruptedRunIsRepaired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name      string
		node      string
		files     []string
		known     bool // the API server knows the node
		wantReset bool
		wantJoin  bool
	}{
		{"worker joined, marker lost", "node01", []string{"/etc/kubernetes/kubelet.conf"}, true, false, false},
		{"worker half joined", "node01", []string{"/etc/kubernetes/kubelet.conf"}, false, true, true},
		{"control plane without manifests", "master02", []string{"/etc/kubernetes/kubelet.conf"}, true, true, true},
		{"control plane joined, marker lost", "master02", []string{"/etc/kubernetes/kubelet.conf", "/etc/kubernetes/manifests/etcd.yaml", "/etc/kubernetes/manifests/kube-apiserver.yaml"}, true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, hosts, _ := newTestBootstrapper(t, func(host, command string) kubeadmtest.Reply {
				if strings.Contains(command, "get node "+tt.node) && !tt.known {
					return kubeadmtest.Reply{Status: 1, Stderr: "NotFound"}
				}
				return kubeadmtest.Reply{}
			})
			require.NoError(t, b.Init(ctx))
			for _, f := range tt.files {
				hosts.SetFile(tt.node, f, []byte("x"))
			}
			require.NoError(t, b.Join(ctx, tt.node))
			cmds := hosts.Commands()
			reset := slices.Index(cmds, tt.node+" kubeadm reset -f")
			join := slices.IndexFunc(cmds, func(c string) bool { return strings.HasPrefix(c, tt.node+" kubeadm join") })
			assert.Equal(t, tt.wantReset, reset >= 0, "reset")
			assert.Equal(t, tt.wantJoin, join >= 0, "join")
			if tt.wantReset && tt.wantJoin {
				assert.Less(t, reset, join)
			}
			_, marked := hosts.File(tt.node, MarkerFile)
			assert.True(t, marked)
		})
	}
}

package layer

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/planetstage/planetstage/kubeadm"
)

func TestCheckNodes(t *testing.T) {
	t.Parallel()
	th := loadThesis(t)
	good := func() []kubeadm.NodeStatus {
		var ns []kubeadm.NodeStatus
		for _, m := range th.Machines() {
			if m.Role == "control-plane" || m.Role == "worker" {
				ns = append(ns, kubeadm.NodeStatus{Name: m.Name, Ready: true, InternalIP: m.Address.String()})
			}
		}
		return ns
	}
	assert.Empty(t, CheckNodes(th, good()))
	tests := []struct {
		name   string
		modify func([]kubeadm.NodeStatus) []kubeadm.NodeStatus
		want   []string
	}{
		{"not Ready", func(ns []kubeadm.NodeStatus) []kubeadm.NodeStatus { ns[4].Ready = false; return ns }, []string{"node node02 not Ready"}},
		{"outside its site", func(ns []kubeadm.NodeStatus) []kubeadm.NodeStatus { ns[6].InternalIP = "172.17.0.5"; return ns },
			[]string{`node node04 has internal IP "172.17.0.5", not in its site 192.168.30.0/24`}},
		{"missing", func(ns []kubeadm.NodeStatus) []kubeadm.NodeStatus { return ns[:6] }, []string{"node node04 missing"}},
		{"unexpected", func(ns []kubeadm.NodeStatus) []kubeadm.NodeStatus {
			return append(ns, kubeadm.NodeStatus{Name: "stranger", Ready: true, InternalIP: "192.168.20.9"})
		}, []string{"unexpected node stranger"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, CheckNodes(th, tt.modify(good())))
		})
	}
}

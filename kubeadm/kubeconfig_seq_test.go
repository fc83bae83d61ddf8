package kubeadm

// ReadAdminKubeconfig and Kubeconfig against kubeadmtest.FakeHosts: the
// file is put on the fake control planes as kubeadm would leave it.

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClientKey stands for the admin's client key (base64 of a string
// that is not a key); no error may carry it.
const fakeClientKey = "RkFLRS1DTElFTlQtS0VZLW5vdC1hLXJlYWwta2V5"

// adminConf is an admin.conf as kubeadm writes it for the thesis cluster.
const adminConf = `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: ZmFrZSBDQSBmb3IgdGVzdHM=
    server: https://192.168.10.253:6443
  name: thesis
contexts:
- context: {cluster: thesis, user: kubernetes-admin}
  name: kubernetes-admin@thesis
current-context: kubernetes-admin@thesis
users:
- name: kubernetes-admin
  user:
    client-certificate-data: ZmFrZSBjbGllbnQgY2VydGlmaWNhdGU=
    client-key-data: ` + fakeClientKey + "\n"

func TestSequenceKubeconfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		holders    []string // control planes that have admin.conf
		down       []string
		server     string
		wantVia    string
		wantServer string
	}{
		{"from the first control plane", []string{"master01", "master02", "master03"}, nil, "", "master01", "https://192.168.10.253:6443"},
		{"past a stopped one", []string{"master01", "master02", "master03"}, []string{"master01"}, "", "master02", "https://192.168.10.253:6443"},
		{"past one not yet joined", []string{"master03"}, nil, "", "master03", "https://192.168.10.253:6443"},
		{"pointed elsewhere", []string{"master01"}, nil, "https://127.0.0.1:16443", "master01", "https://127.0.0.1:16443"},
		{"a file pointed elsewhere", []string{"master01"}, nil, "", "master01", "https://192.168.10.253:6443"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, hosts, _ := newTestBootstrapper(t, nil)
			conf := adminConf
			if strings.HasPrefix(tc.name, "a file pointed elsewhere") {
				conf = strings.Replace(conf, "https://192.168.10.253:6443", "https://master01:6443", 1)
			}
			for _, h := range tc.holders {
				hosts.SetFile(h, AdminKubeconfig, []byte(conf))
			}
			for _, h := range tc.down {
				hosts.SetDown(h, true)
			}
			data, via, err := b.ReadAdminKubeconfig(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tc.wantVia, via)
			assert.Equal(t, conf, string(data))

			cfg, err := b.Kubeconfig(context.Background(), tc.server)
			require.NoError(t, err)
			assert.Equal(t, "thesis", cfg.CurrentContext, "named after the cluster")
			require.Contains(t, cfg.Clusters, "thesis")
			assert.Equal(t, tc.wantServer, cfg.Clusters["thesis"].Server)
			require.Contains(t, cfg.AuthInfos, "thesis")
			assert.NotEmpty(t, cfg.AuthInfos["thesis"].ClientKeyData)
			for _, c := range hosts.Commands() {
				assert.NotContains(t, c, "kubectl", "reading a file runs no command: %s", c)
			}
		})
	}
}

func TestSequenceKubeconfigFails(t *testing.T) {
	t.Parallel()
	t.Run("no control plane holds it", func(t *testing.T) {
		t.Parallel()
		b, hosts, _ := newTestBootstrapper(t, nil)
		hosts.SetDown("master02", true)
		_, err := b.Kubeconfig(context.Background(), "")
		require.Error(t, err)
		assert.ErrorIs(t, err, fs.ErrNotExist)
		assert.Contains(t, err.Error(), "no control plane could read "+AdminKubeconfig)
		assert.Contains(t, err.Error(), "apply its cluster layer")
		for _, cp := range []string{"master01", "master02", "master03"} {
			assert.Contains(t, err.Error(), `node "`+cp+`"`)
		}
	})
	t.Run("a file that is not an admin kubeconfig", func(t *testing.T) {
		t.Parallel()
		b, hosts, _ := newTestBootstrapper(t, nil)
		broken := strings.Replace(adminConf, "{cluster: thesis,", "{cluster: gone,", 1)
		hosts.SetFile("master01", AdminKubeconfig, []byte(broken))
		_, err := b.Kubeconfig(context.Background(), "")
		require.Error(t, err)
		assert.Contains(t, err.Error(), `node "master01": /etc/kubernetes/admin.conf: kubeconfig: context "kubernetes-admin@thesis" names cluster "gone"`)
		assert.NotContains(t, err.Error(), fakeClientKey)
	})
}

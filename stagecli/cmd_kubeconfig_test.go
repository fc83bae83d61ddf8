package stagecli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/planetstage/planetstage/kubeadm"
	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/topology"
)

// fakeClientKey stands for the admin's client key in fakeAdminConf.
const fakeClientKey = "RkFLRS1DTElFTlQtS0VZLW5vdC1hLXJlYWwta2V5"

// fakeAdminConf is what kubeadm would leave on cp1, pointed at the control
// plane's name rather than the load balancer, so that the rewrite shows.
const fakeAdminConf = `apiVersion: v1
kind: Config
clusters:
- cluster: {certificate-authority-data: ZmFrZSBDQSBmb3IgdGVzdHM=, server: "https://cp1:6443"}
  name: stagetest-kc
contexts:
- context: {cluster: stagetest-kc, user: kubernetes-admin}
  name: kubernetes-admin@stagetest-kc
current-context: kubernetes-admin@stagetest-kc
users:
- name: kubernetes-admin
  user: {client-certificate-data: ZmFrZSBjbGllbnQgY2VydGlmaWNhdGU=, client-key-data: ` + fakeClientKey + `}
`

func TestKubeconfigNeedsACluster(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(thesisCopy(t))
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "nocluster.yaml")
	require.NoError(t, os.WriteFile(file, []byte(strings.Replace(string(data), "cluster: {", "#cluster: {", 1)), 0o600))
	code, _, errOut := stage(t, "kubeconfig", "-f", file, "--state", t.TempDir())
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "topology thesis has no cluster")
	code, _, _ = stage(t, "kubeconfig")
	assert.Equal(t, 2, code, "-f is required")
}

// TestKubeconfigFromTheLab brings up the machines of a small cluster
// topology (no Kubernetes runs: cp1 gets an admin.conf written by the
// test), then runs stage kubeconfig --lab: it reads the file over SSH as on
// hardware, points it at the load balancer and merges it next to a
// context that was there; --print writes it out instead. stage inspect
// --lab sees the same lab.
func TestKubeconfigFromTheLab(t *testing.T) {
	t.Parallel()
	if err := exec.Command("docker", "version").Run(); err != nil {
		t.Skipf("needs a running Docker engine: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	file := filepath.Join(dir, "kc.yaml")
	src := strings.NewReplacer("stagetest-k8s", "stagetest-kc", ".31.", ".38.").Replace(k8sTopology)
	require.NoError(t, os.WriteFile(file, []byte(src), 0o600))
	topo, err := topology.Load(file)
	require.NoError(t, err)
	labState := filepath.Join(dir, "lab")
	l, err := lab.Up(ctx, topo, lab.Options{StateDir: labState})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, l.Down(context.Background())) })
	cp1, err := l.Exec("cp1")
	require.NoError(t, err)
	require.NoError(t, cp1.WriteFile(ctx, kubeadm.AdminKubeconfig, []byte(fakeAdminConf), 0o600))

	kubeconfig := filepath.Join(dir, "home", ".kube", "config")
	require.NoError(t, os.MkdirAll(filepath.Dir(kubeconfig), 0o700))
	require.NoError(t, os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: other, cluster: {server: "https://other.example:6443"}}]
users: [{name: other, user: {token: other-token}}]
contexts: [{name: other, context: {cluster: other, user: other}}]
current-context: other
`), 0o644))
	flags := []string{"-f", file, "--state", filepath.Join(dir, "state"), "--lab", "--lab-state", labState}
	for range 2 { // a second run replaces what the first wrote
		code, out, errOut := stage(t, append([]string{"kubeconfig", "--kubeconfig", kubeconfig}, flags...)...)
		require.Equal(t, 0, code, out+errOut)
		assert.Contains(t, out, ` ✓ Context "stagetest-kc" (server https://172.38.10.253:6443) written to `+kubeconfig)
		assert.NotContains(t, out+errOut, fakeClientKey)
	}
	got, err := clientcmd.LoadFromFile(kubeconfig)
	require.NoError(t, err)
	assert.Equal(t, "stagetest-kc", got.CurrentContext)
	assert.Len(t, got.Contexts, 2, "the other context stays")
	assert.Equal(t, "other-token", got.AuthInfos["other"].Token)
	assert.Equal(t, "https://172.38.10.253:6443", got.Clusters["stagetest-kc"].Server, "the load balancer, which this machine reaches")
	assert.Equal(t, "cp1", got.Clusters["stagetest-kc"].TLSServerName, "the certificate is checked against the name the file had")
	st, err := os.Stat(kubeconfig)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	code, out, errOut := stage(t, append([]string{"kubeconfig", "--print"}, flags...)...)
	require.Equal(t, 0, code, errOut)
	printed, err := clientcmd.Load([]byte(out))
	require.NoError(t, err)
	assert.Equal(t, "stagetest-kc", printed.CurrentContext)
	assert.Equal(t, "FAKE-CLIENT-KEY-not-a-real-key", string(printed.AuthInfos["stagetest-kc"].ClientKeyData))

	code, out, errOut = stage(t, append([]string{"inspect"}, flags...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "topology stagetest-kc, in its lab: ")
	assert.Regexp(t, `(?m)^cp1 +control-plane +a +172\.38\.10\.101 +- +- +running +-$`, out)
}

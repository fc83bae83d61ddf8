package k8snode

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTestConfigsValidate runs the real `kubeadm config validate` over the
// configs the end-to-end test uses. kubeadm comes from PLANETSTAGE_KUBEADM
// (e.g. the Result.BinDir of a build) or PATH.
func TestTestConfigsValidate(t *testing.T) {
	t.Parallel()
	kubeadm := os.Getenv("PLANETSTAGE_KUBEADM")
	if kubeadm == "" {
		var err error
		if kubeadm, err = lookPath("kubeadm"); err != nil {
			t.Skip("no kubeadm: set PLANETSTAGE_KUBEADM to a built kubeadm (Result.BinDir/kubeadm)")
		}
	}
	cp := testNode{name: "cp1", ip: "172.29.0.11", role: "control-plane"}
	w := testNode{name: "w1", ip: "172.29.0.21", role: "worker"}
	const token, key = "abcdef.0123456789abcdef", "0000000000000000000000000000000000000000000000000000000000000000"
	hash := "sha256:" + key
	for name, cfg := range map[string]string{
		"init":               initConfig(cp, token, key),
		"join-control-plane": joinConfig(testNode{name: "cp2", ip: "172.29.0.12", role: "control-plane"}, token, hash, key),
		"join-worker":        joinConfig(w, token, hash, ""),
	} {
		path := filepath.Join(t.TempDir(), name+".yaml")
		require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
		out, err := exec.Command(kubeadm, "config", "validate", "--config", path).CombinedOutput()
		assert.NoError(t, err, "%s: %s", name, out)
	}
}

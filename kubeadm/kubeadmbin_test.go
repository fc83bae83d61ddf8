package kubeadm

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRealKubeadmValidates runs the kubeadm binary itself (`kubeadm config
// validate`) on every rendered config. It uses $PLANETSTAGE_KUBEADM or
// kubeadm from PATH, and skips when there is none; the in-process
// validation in validate_test.go covers the same code without the binary.
func TestRealKubeadmValidates(t *testing.T) {
	t.Parallel()
	bin := os.Getenv("PLANETSTAGE_KUBEADM")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("kubeadm"); err != nil {
			t.Skip("no kubeadm binary: set PLANETSTAGE_KUBEADM or put kubeadm (v1.31+) in PATH")
		}
	}
	dir := t.TempDir()
	for name, cfg := range renderAll(t, thesisCluster()) {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, cfg, 0o600))
		out, err := exec.Command(bin, "config", "validate", "--config", path).CombinedOutput()
		require.NoError(t, err, "%s: %s", name, out)
		assert.Equal(t, "ok", strings.TrimSpace(lastLine(string(out))), name)
	}
	broken := filepath.Join(dir, "broken.yaml")
	init, err := thesisCluster().InitConfig(testSecrets, testNow)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(broken, []byte(strings.Replace(string(init), "10.244.0.0/16", "10.244.0.0/33", 1)), 0o600))
	_, err = exec.Command(bin, "config", "validate", "--config", broken).CombinedOutput()
	assert.Error(t, err, "kubeadm must reject a broken config")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

package stagecli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/inventory"
)

// TestPowerInTheLab: power off stops a machine (nothing answers it any
// more), power on brings it back and returns once it answers over SSH.
func TestPowerInTheLab(t *testing.T) {
	t.Parallel()
	if err := exec.Command("docker", "version").Run(); err != nil {
		t.Skipf("needs a running Docker engine: %v", err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "power.yaml")
	src := strings.NewReplacer("stagetest-k8s", "stagetest-power", ".31.", ".39.").Replace(k8sTopology)
	require.NoError(t, os.WriteFile(file, []byte(src), 0o600))
	flags := []string{"-f", file, "--state", filepath.Join(dir, "state"), "--lab", "--lab-state", filepath.Join(dir, "lab")}
	t.Cleanup(func() { stage(t, append([]string{"destroy"}, flags...)...) })
	code, out, errOut := stage(t, append([]string{"apply", "--layers", "machines"}, flags...)...)
	require.Equal(t, 0, code, out+errOut)

	code, out, errOut = stage(t, append(append([]string{"power"}, flags...), "off", "w1")...)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "✓ w1 is off")
	assert.Equal(t, inventory.ContainerStopped, containerOf(t, flags, "w1"))

	code, out, errOut = stage(t, append(append([]string{"power"}, flags...), "on", "w1")...)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "✓ w1 is on and answers over SSH")
	code, out, errOut = stage(t, append(append([]string{"ssh"}, flags...), "w1", "hostname")...)
	require.Equal(t, 0, code, out+errOut)
	assert.Equal(t, "w1", strings.TrimSpace(out))
	assert.Equal(t, inventory.ContainerRunning, containerOf(t, flags, "w1"))

	code, _, errOut = stage(t, append(append([]string{"power"}, flags...), "off", "nobody")...)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `no machine "nobody"`)
}

// TestPowerNeedsConfirmationOnHardware: without a terminal, power on
// hardware refuses before reaching any machine unless --yes; bad
// arguments are a usage error.
func TestPowerNeedsConfirmationOnHardware(t *testing.T) {
	t.Parallel()
	c := &CLI{IsTerminal: func() bool { return false }}
	var stdout, stderr bytes.Buffer
	code := c.Run(t.Context(), []string{"power", "-f", thesisCopy(t), "--state", t.TempDir(), "off", "master01"}, &stdout, &stderr)
	assert.Equal(t, 1, code, stdout.String())
	assert.Contains(t, stderr.String(), "power off changes a real machine: run it on a terminal to confirm, or pass --yes")

	// On a terminal it names the machine and asks; anything but "yes"
	// changes nothing (the thesis's hypervisors are never reached).
	c = &CLI{IsTerminal: func() bool { return true }, Stdin: strings.NewReader("no\n")}
	stdout.Reset()
	stderr.Reset()
	code = c.Run(t.Context(), []string{"power", "-f", thesisCopy(t), "--state", t.TempDir(), "off", "master01"}, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout.String(), `power off: master01 of "thesis", through its hypervisor. Type yes to go on: `)
	assert.Contains(t, stderr.String(), "not confirmed; nothing was changed")
	for _, args := range [][]string{{"power", "-f", "x.yaml", "off"}, {"power", "-f", "x.yaml", "reboot", "n1"}, {"power", "off", "n1"}} {
		code, _, _ := stage(t, args...)
		assert.Equal(t, 2, code, "%v", args)
	}
}

// containerOf is machine name's container state as stage inspect --json
// reports it.
func containerOf(t *testing.T, flags []string, name string) inventory.ContainerState {
	t.Helper()
	code, out, errOut := stage(t, append([]string{"inspect", "--json"}, flags...)...)
	require.Equal(t, 0, code, out+errOut)
	var inv inventory.Inventory
	require.NoError(t, json.Unmarshal([]byte(out), &inv))
	for _, m := range inv.Machines {
		if m.Name == name {
			return m.Container
		}
	}
	t.Fatalf("stage inspect lists no machine %q:\n%s", name, out)
	return ""
}

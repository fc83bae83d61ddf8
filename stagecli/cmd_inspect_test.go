package stagecli

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Without --lab, inspect is the model: it says so, and knows no state.
func TestInspectModel(t *testing.T) {
	t.Parallel()
	file := thesisCopy(t)
	code, out, errOut := stage(t, "inspect", "-f", file)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "topology thesis: the model only, from the topology file; no machine was contacted")
	assert.Regexp(t, `(?m)^master02 +control-plane +site-a +192\.168\.10\.102 +- +esxi1$`, out)
	assert.Regexp(t, `(?m)^vyos01_vyos03 +1195 +10\.255\.0\.4/30 +vyos01 10\.4\.0\.90 10\.255\.0\.5 +vyos03 10\.4\.0\.92 10\.255\.0\.6$`, out)
	assert.NotContains(t, out, "CONTAINER")

	code, out, errOut = stage(t, "inspect", "-f", file, "--json")
	require.Equal(t, 0, code, errOut)
	var inv struct {
		Source   string `json:"source"`
		Machines []struct {
			Name       string `json:"name"`
			Role       string `json:"role"`
			Kubernetes string `json:"kubernetes"`
			Container  string `json:"container"`
		} `json:"machines"`
		Tunnels []struct {
			Name string `json:"name"`
			Ends []struct {
				Address string `json:"address"`
			} `json:"ends"`
		} `json:"tunnels"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &inv))
	assert.Equal(t, "model", inv.Source)
	require.Len(t, inv.Machines, 11)
	assert.Equal(t, "worker", inv.Machines[10].Kubernetes)
	assert.Empty(t, inv.Machines[10].Container)
	require.Len(t, inv.Tunnels, 3)
	assert.Equal(t, "10.255.0.9", inv.Tunnels[2].Ends[0].Address)
}

func TestInspectLabNotUp(t *testing.T) {
	t.Parallel()
	if err := exec.Command("docker", "version").Run(); err != nil {
		t.Skipf("needs a running Docker engine: %v", err)
	}
	file := thesisCopy(t, "name: thesis", "name: stagetest-inspect-absent")
	code, out, errOut := stage(t, "inspect", "-f", file, "--lab", "--lab-state", filepath.Join(t.TempDir(), "lab"))
	assert.Equal(t, 1, code, out)
	assert.Contains(t, errOut, `lab "stagetest-inspect-absent" is not up`)
	assert.Contains(t, errOut, "bring it up with stage apply --lab")
}

package stagecli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The measuring itself needs running routers (layer.MeasureWAN is
// tested with fakes, package wan against real ping, iperf3 and OpenVPN);
// here only what fails before anything is dialled.
func TestMeasureCommandRefusesBadInput(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run(t.Context(), []string{"measure"}, &out, &errOut), "no -f")
	assert.Contains(t, errOut.String(), "-f FILE is required")

	errOut.Reset()
	code := run(t.Context(), []string{"measure", "-f", "../topology/testdata/thesis.yaml", "-state", t.TempDir(), "--geo", "mars"}, &out, &errOut)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), `geo preset "mars": unknown; presets are atlantic, europe, pacific, planet`)
	assert.Empty(t, out.String(), "nothing measured")

	errOut.Reset()
	code = run(t.Context(), []string{"measure", "-f", "../topology/testdata/thesis.yaml", "-state", t.TempDir(), "--kinds", "openvpn,wireguard"}, &out, &errOut)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), "--kinds switches the tunnels of a running lab: add --lab")
	assert.Empty(t, out.String(), "nothing measured")
}

func TestMeasureCommandNeedsARunningLab(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("needs the docker CLI")
	}
	// A topology name no lab has, so Attach finds nothing to dial.
	data, err := os.ReadFile("../topology/testdata/thesis.yaml")
	require.NoError(t, err)
	name := fmt.Sprintf("wanmeasure%d", os.Getpid())
	file := filepath.Join(t.TempDir(), "t.yaml")
	require.NoError(t, os.WriteFile(file, bytes.Replace(data, []byte("name: thesis"), []byte("name: "+name), 1), 0o600))

	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"measure", "-f", file, "-state", t.TempDir(), "-lab-state", t.TempDir(), "--lab"}, &out, &errOut)
	assert.Equal(t, 1, code, errOut.String())
	assert.Contains(t, errOut.String(), "is not up")
	assert.Contains(t, errOut.String(), "stage apply --lab")
}

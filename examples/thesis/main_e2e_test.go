package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/lab"
)

// TestThesisInTheLab is the main job end to end, as `go run
// ./examples/thesis --report FILE` runs it: the thesis testbed in the lab,
// both matrices, the plan, the check. About half a minute with the node
// image cached.
func TestThesisInTheLab(t *testing.T) {
	if err := exec.Command("docker", "version").Run(); err != nil {
		t.Skipf("needs a running Docker engine: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := t.TempDir()
	reportFile := filepath.Join(dir, "report.json")
	var out, errOut bytes.Buffer
	// The network part; the cluster part is the main job (go run
	// ./examples/thesis), which CI runs on its own.
	code := run(ctx, []string{"--cluster=false", "--report", reportFile, "--state", filepath.Join(dir, "state")}, &out, &errOut)
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	require.Equal(t, 0, code)
	assert.Contains(t, out.String(), "thesis check: PASS\n")
	assert.Contains(t, out.String(), "cluster layer skipped")
	assert.Contains(t, out.String(), "runs in the VyOS stand-in, not VyOS")

	data, err := os.ReadFile(reportFile)
	require.NoError(t, err)
	var r report
	require.NoError(t, json.Unmarshal(data, &r))
	assert.Equal(t, "PASS", r.Check)
	assert.Len(t, r.Before.Pairs, 11*10)
	assert.Len(t, r.Before.Unreachable(), 11*10-(5*4+3*2+3*2), "table 4.6: only same-site pairs")
	assert.Empty(t, r.After.Unreachable(), "table 4.7: every pair")
	var ids []string
	for _, s := range r.Steps {
		ids = append(ids, s.ID)
		assert.Equal(t, "done", s.Outcome, s.ID)
	}
	joined := strings.Join(ids, " ")
	for _, want := range []string{"machines/up/node03", "routers/vyos02", "lb/haproxy/lb"} {
		assert.Contains(t, joined, want)
	}
	assert.Greater(t, r.TotalSeconds, 0.0)
	require.Len(t, r.Routers, 3, "the report says what ran each router")
	for _, rt := range r.Routers {
		assert.Equal(t, lab.RouterVyOSStandin, rt.Kind, rt.Name)
		assert.Equal(t, "1.2", rt.Version, rt.Name)
	}
}

package stagecli

import (
	"bytes"
	"encoding/pem"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoSecretInAnyOutput runs the thesis in the lab the way a user would,
// every command with -v, and then looks for every secret the run made (the
// state's 0600 files: VPN private and static keys, the cluster's CA keys and
// tokens when the cluster runs: with the node image and
// PLANETSTAGE_HEAVY_TESTS=1) in every byte the commands printed and every
// file they wrote outside the state directories: a debug-logged apply, a
// plan, a render of every machine, the --report, and an apply that fails
// (a router stopped under it).
func TestNoSecretInAnyOutput(t *testing.T) {
	if err := exec.Command("docker", "version").Run(); err != nil {
		t.Skipf("needs a running Docker engine: %v", err)
	}
	dir := t.TempDir()
	// The thesis under a name and addresses of its own: examples/thesis's
	// tests run the thesis lab itself, perhaps at the same time.
	data, err := os.ReadFile("../examples/thesis/thesis.yaml")
	require.NoError(t, err)
	file := filepath.Join(dir, "thesis.yaml")
	renamed := strings.NewReplacer("name: thesis\n", "name: stagetest-secrets\n", "10.4.0.", "10.34.0.", "192.168.", "172.19.").Replace(string(data))
	require.NoError(t, os.WriteFile(file, []byte(renamed), 0o644))
	labState := filepath.Join(dir, "lab")
	planState := filepath.Join(labState, "plan") // lab.Lab.State
	out := filepath.Join(dir, "out")
	require.NoError(t, os.Mkdir(out, 0o755))
	lab := []string{"-f", file, "--lab-state", labState, "--lab", "-v"}
	t.Cleanup(func() { stage(t, append([]string{"destroy"}, lab...)...) })
	layers := "machines,routers,wan,lb"
	if os.Getenv("PLANETSTAGE_NODE_IMAGE") != "" && os.Getenv("PLANETSTAGE_HEAVY_TESTS") == "1" {
		// The CA keys and the join tokens too: minutes more, so in CI's
		// heavy step rather than in every go test ./... .
		layers += ",cluster"
	}

	var printed bytes.Buffer
	run := func(args ...string) int {
		code, o, e := stage(t, args...)
		printed.WriteString(o + e)
		return code
	}
	report := filepath.Join(out, "report.json")
	require.Equal(t, 0, run(append([]string{"apply", "--layers", layers, "--report", report}, lab...)...), printed.String())
	require.Equal(t, 0, run(append([]string{"plan", "--layers", layers, "--format", "json"}, lab...)...), printed.String())
	for _, m := range []string{"vyos01", "vyos02", "vyos03", "master01", "node03", "lb"} {
		code := run("render", "-f", file, "--state", planState, "--lab", "-v", "--host", m)
		require.Equal(t, 0, code, m)
	}
	// A router stopped under the apply: it fails, and says why.
	stop := exec.Command("docker", "stop", "-t", "1", "stagetest-secrets-vyos02")
	if msg, err := stop.CombinedOutput(); err != nil {
		t.Fatalf("docker stop: %v: %s", err, msg)
	}
	before := printed.Len()
	assert.NotEqual(t, 0, run(append([]string{"apply", "--layers", "routers"}, lab...)...), "an apply with a router down fails")
	assert.Contains(t, printed.String()[before:], "vyos02")

	secrets := secretLines(t, planState)
	require.NotEmpty(t, secrets, "the run made no secret to look for")
	written := printed.String()
	require.NoError(t, filepath.WalkDir(out, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			data, rerr := os.ReadFile(p)
			written += string(data)
			return rerr
		}
		return err
	}))
	require.Contains(t, written, `"steps"`, "the report was written")
	for _, s := range secrets {
		if strings.Contains(written, s.line) {
			t.Errorf("a line of %s appears in the output", s.file)
		}
	}
	t.Logf("%d lines of %d secret files checked against %d bytes of output", len(secrets), countFiles(secrets), len(written))
}

type secretLine struct{ file, line string }

// secretLines are the lines of the 0600 files under dir worth looking for:
// a PEM block's base64 lines (not its header), any other line of 16
// characters or more.
func secretLines(t *testing.T, dir string) []secretLine {
	t.Helper()
	var out []secretLine
	require.NoError(t, filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err != nil || info.Mode().Perm() != 0o600 {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if block, _ := pem.Decode(data); block != nil && !strings.Contains(block.Type, "PRIVATE KEY") {
			return nil // a certificate stored 0600 is public all the same
		}
		for _, l := range strings.Split(string(data), "\n") {
			l = strings.TrimSpace(l)
			if len(l) >= 16 && !strings.HasPrefix(l, "-----") && !strings.HasPrefix(l, "#") {
				out = append(out, secretLine{rel, l})
			}
		}
		return nil
	}))
	return out
}

func countFiles(lines []secretLine) int {
	files := map[string]bool{}
	for _, l := range lines {
		files[l.file] = true
	}
	return len(files)
}

package lab

import (
	"context"
	"errors"
	"io/fs"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/remote"
)

// TestUpRemovesLeftoversAndDownRemovesAll plays a crashed run: a labelled
// container and network are left behind, made with the docker CLI as the
// lab made them before it used the Engine API; the next Up of the same lab
// removes them, and Down leaves nothing labelled, not even a firewall rule.
func TestUpRemovesLeftoversAndDownRemovesAll(t *testing.T) {
	t.Parallel()
	d := needDocker(t)
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("this test makes its leftovers with the docker CLI, which is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const name = "labtest-sweep"
	image, err := ensureImage(ctx, d, DefaultRecipe(), ImageOptions{})
	if err != nil {
		t.Skipf("cannot build the node image: %v", err)
	}
	label := LabelKey + "=" + name
	cli := func(args ...string) {
		out, err := exec.CommandContext(ctx, docker, args...).CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	cli("network", "create", "--internal", "--label", label, "--subnet", "10.244.77.0/24", name+"-stale")
	cli("create", "--label", label, "--name", name+"-stale", "--network", name+"-stale", image)

	l, err := UpSpec(ctx, twoSites(name, 4), Options{StateDir: t.TempDir()})
	require.NoError(t, err)
	cs, err := d.listContainers(ctx, label)
	require.NoError(t, err)
	var names []string
	for _, c := range cs {
		names = append(names, c.Names...)
	}
	assert.NotContains(t, names, "/"+name+"-stale")
	assert.Len(t, names, 4)

	// The lab's own plumbing runner reads and writes files atomically.
	h1, err := l.Exec("h1")
	require.NoError(t, err)
	require.NoError(t, h1.WriteFile(ctx, "/etc/demo/x.conf", []byte("a'b\n"), 0o640))
	got, err := h1.ReadFile(ctx, "/etc/demo/x.conf")
	require.NoError(t, err)
	assert.Equal(t, "a'b\n", string(got))
	mode, err := remote.Output(ctx, h1, "stat -c %a /etc/demo/x.conf")
	require.NoError(t, err)
	assert.Equal(t, "640", strings.TrimSpace(mode))
	_, err = h1.ReadFile(ctx, "/etc/demo/missing")
	assert.True(t, errors.Is(err, fs.ErrNotExist), "%v", err)

	require.NoError(t, l.Down(ctx))
	cs, err = d.listContainers(ctx, label)
	require.NoError(t, err)
	assert.Empty(t, cs)
	nets, err := d.listNetworks(label)
	require.NoError(t, err)
	assert.Empty(t, nets)
	rules, err := d.run(ctx, containerSpec{Image: image, Network: "host", CapAdd: []string{"NET_ADMIN"},
		Entrypoint: []string{"/bin/sh"}, Cmd: []string{"-c", iptablesPrelude + "$ipt -S DOCKER-USER"}})
	require.NoError(t, err)
	assert.NotContains(t, rules, `"`+label+`"`)
}

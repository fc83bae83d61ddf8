package lab

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/remote"
)

// TestUpRemovesLeftoversAndDownRemovesAll plays a crashed run: a labelled
// container and network are left behind; the next Up of the same lab
// removes them, and Down leaves nothing labelled, not even a firewall rule.
func TestUpRemovesLeftoversAndDownRemovesAll(t *testing.T) {
	t.Parallel()
	d := needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const name = "labtest-sweep"
	image, err := ensureImage(ctx, d, DefaultRecipe(), ImageOptions{})
	if err != nil {
		t.Skipf("cannot build the node image: %v", err)
	}
	label := LabelKey + "=" + name
	_, err = d.run(ctx, nil, "network", "create", "--internal", "--label", label, "--subnet", "10.244.77.0/24", name+"-stale")
	require.NoError(t, err)
	_, err = d.run(ctx, nil, "create", "--label", label, "--name", name+"-stale", "--network", name+"-stale", image)
	require.NoError(t, err)

	l, err := UpSpec(ctx, twoSites(name, 4), Options{StateDir: t.TempDir()})
	require.NoError(t, err)
	out, err := d.run(ctx, nil, "ps", "-a", "--filter", "label="+label, "--format", "{{.Names}}")
	require.NoError(t, err)
	assert.NotContains(t, out, name+"-stale")
	assert.Len(t, strings.Fields(out), 4)

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
	out, err = d.run(ctx, nil, "ps", "-aq", "--filter", "label="+label)
	require.NoError(t, err)
	assert.Empty(t, strings.TrimSpace(out))
	out, err = d.run(ctx, nil, "network", "ls", "-q", "--filter", "label="+label)
	require.NoError(t, err)
	assert.Empty(t, strings.TrimSpace(out))
	rules, err := d.run(ctx, nil, "run", "--rm", "--network", "host", "--cap-add", "NET_ADMIN", "--entrypoint", "/bin/sh", image,
		"-c", iptablesPrelude+"$ipt -S DOCKER-USER")
	require.NoError(t, err)
	assert.NotContains(t, rules, `"`+label+`"`)
}

package kubeadmtest

import (
	"context"
	"errors"
	"testing"

	"github.com/planetstage/planetstage/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSetDown: a down host dials but refuses every operation with an error
// that is not an exit status, logs it as "down", and works again once up.
func TestSetDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := NewFakeHosts(nil)
	r, err := f.Dial(ctx, "master01")
	require.NoError(t, err)
	f.SetDown("master01", true)

	err = r.Run(ctx, remote.Cmd{Command: "true"})
	require.Error(t, err)
	var exit *remote.ExitError
	assert.False(t, errors.As(err, &exit), "a dead connection is not a failed command")
	assert.Error(t, r.WriteFile(ctx, "/x", []byte("x"), 0o600))
	_, err = r.ReadFile(ctx, "/x")
	assert.Error(t, err)
	_, written := f.File("master01", "/x")
	assert.False(t, written)
	assert.Equal(t, []Entry{{Host: "master01", Op: "down", What: "true"}, {Host: "master01", Op: "down", What: "/x"},
		{Host: "master01", Op: "down", What: "/x"}}, f.Log())
	assert.Empty(t, f.Commands())

	other, err := f.Dial(ctx, "master02")
	require.NoError(t, err)
	assert.NoError(t, other.Run(ctx, remote.Cmd{Command: "true"}), "only the host set down is down")

	f.SetDown("master01", false)
	assert.NoError(t, r.Run(ctx, remote.Cmd{Command: "true"}))
	assert.Equal(t, []string{"master02 true", "master01 true"}, f.Commands())
}

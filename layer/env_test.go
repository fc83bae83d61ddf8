package layer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenEnv(t *testing.T) {
	// Not parallel: it sets XDG_STATE_HOME.
	top := loadThesis(t)
	dir := filepath.Join(t.TempDir(), "state")
	env, err := OpenEnv(top, dir, nil)
	require.NoError(t, err)
	assert.Equal(t, dir, env.State.Dir())
	info, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), info.Mode().Perm(), "state holds keys")
	assert.NotNil(t, env.Dial)
	require.NoError(t, env.Close(t.Context()))

	xdg := t.TempDir()
	t.Setenv("XDG_STATE_HOME", xdg)
	env, err = OpenEnv(top, "", nil)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(xdg, "planetstage", top.Name), env.State.Dir(), "the default state directory")

	open := t.TempDir()
	require.NoError(t, os.Chmod(open, 0o777))
	_, err = OpenEnv(top, open, nil)
	assert.Error(t, err, "a state directory others can write is refused")
}

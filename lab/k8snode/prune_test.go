package k8snode

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStaleStageDirs: other hashes' stages and interrupted ones go; the
// stages in use, Go's caches and the lock stay.
func TestStaleStageDirs(t *testing.T) {
	t.Parallel()
	cache := t.TempDir()
	for _, d := range []string{"bin-new", "bin-old", "bin-x.tmp", "images-new", "images-old", "rootfs-new", "gocache", "gomodcache"} {
		require.NoError(t, os.Mkdir(filepath.Join(cache, d), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(cache, "bin-file"), nil, 0o644))
	keep := []string{filepath.Join(cache, "bin-new"), filepath.Join(cache, "images-new"), filepath.Join(cache, "rootfs-new")}
	assert.ElementsMatch(t, []string{
		filepath.Join(cache, "bin-old"), filepath.Join(cache, "bin-x.tmp"), filepath.Join(cache, "images-old"),
	}, staleStageDirs(cache, keep))
	assert.Empty(t, staleStageDirs(filepath.Join(cache, "missing"), keep))
}

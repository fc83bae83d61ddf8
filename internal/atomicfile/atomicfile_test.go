package atomicfile_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/internal/atomicfile"
)

// names lists dir's entries, so a test sees a temporary file left behind.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestWriteSetsModeAndContent(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		perm fs.FileMode
	}{
		{"secret", 0o600},
		{"public", 0o644},
		// Wider than a usual umask allows: the mode is set, not masked.
		{"group-writable", 0o664},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			require.NoError(t, atomicfile.Write(path, []byte(tt.name), tt.perm))
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tt.name, string(got))
			info, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, tt.perm, info.Mode().Perm())
			assert.Equal(t, []string{"f"}, names(t, dir), "no temporary file left")
		})
	}
}

func TestWriteReplacesContentAndMode(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(path, []byte("old and longer"), 0o644))
	require.NoError(t, atomicfile.Write(path, []byte("new"), 0o600))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "new", string(got), "replaced, not overwritten in place")
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), info.Mode().Perm())
}

func TestWriteFailureLeavesNoTemporaryFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A non-empty directory where the file should go: the temporary file
	// is written, then the rename fails.
	target := filepath.Join(dir, "busy")
	require.NoError(t, os.Mkdir(target, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(target, "inside"), []byte("x"), 0o600))

	err := atomicfile.Write(target, []byte("data"), 0o644)
	require.Error(t, err)
	assert.Equal(t, []string{"busy"}, names(t, dir), "temporary file removed")
	assert.Equal(t, []string{"inside"}, names(t, target), "what was there is untouched")
}

func TestWriteIntoMissingDirectory(t *testing.T) {
	t.Parallel()
	err := atomicfile.Write(filepath.Join(t.TempDir(), "missing", "f"), nil, 0o644)
	assert.True(t, errors.Is(err, fs.ErrNotExist), "got %v", err)
}

func TestConcurrentWritesLeaveOneWholeVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	versions := map[string]bool{}
	var wg sync.WaitGroup
	for i := range 16 {
		data := fmt.Sprintf(`{"writer": %d, "padding": %q}`, i, make([]byte, 4096))
		versions[data] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, atomicfile.Write(path, []byte(data), 0o644))
		}()
	}
	wg.Wait()
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, versions[string(got)], "the file is one writer's whole version")
	assert.Equal(t, []string{"state.json"}, names(t, dir), "no temporary file left")
}

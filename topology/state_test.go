package topology

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStateModesAndAtomicWrites(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "thesis")
	st, err := OpenState(dir)
	require.NoError(t, err)
	info, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o700), info.Mode().Perm())

	require.NoError(t, st.Write("vpn/vyos01.key", []byte("secret"), true))
	require.NoError(t, st.Write("created.json", []byte("{}"), false))
	for name, want := range map[string]fs.FileMode{"vpn/vyos01.key": 0o600, "created.json": 0o644, "vpn": 0o700} {
		info, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, want, info.Mode().Perm(), name)
	}
	got, err := st.Read("vpn/vyos01.key")
	require.NoError(t, err)
	assert.Equal(t, "secret", string(got))
	entries, err := os.ReadDir(filepath.Join(dir, "vpn"))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary files left behind")

	_, err = st.Read("missing")
	assert.True(t, errors.Is(err, fs.ErrNotExist))
	require.NoError(t, st.Remove("missing"))
	for _, bad := range []string{"", "../escape", "/etc/passwd", "a/../../b"} {
		assert.Error(t, st.Write(bad, nil, false), "name %q", bad)
	}
}

// "--state ~" must not chmod the home directory: a readable directory
// is used as it is, one others can write is refused, and neither changes.
func TestStateLeavesAnExistingDirectoryAlone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	_, err := OpenState(dir)
	require.NoError(t, err)
	info, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o755), info.Mode().Perm())

	require.NoError(t, os.Chmod(dir, 0o775))
	_, err = OpenState(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), dir)
	assert.Contains(t, err.Error(), "0775")
	info, err = os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o775), info.Mode().Perm())

	require.NoError(t, os.Chmod(dir, 0o700))
	_, err = OpenState(dir)
	assert.NoError(t, err, "once the owner has tightened it")
}

func TestLoadOrCreateCreatesOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	st, err := OpenState(t.TempDir())
	require.NoError(t, err)
	var calls atomic.Int32
	var wg sync.WaitGroup
	results := make([]string, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data, err := st.LoadOrCreate("ca.key", true, func() ([]byte, error) {
				calls.Add(1)
				return []byte("key"), nil
			})
			assert.NoError(t, err)
			results[i] = string(data)
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), calls.Load())
	for _, r := range results {
		assert.Equal(t, "key", r)
	}
	// A second process (a re-apply) reuses what the first stored.
	again, err := OpenState(st.Dir())
	require.NoError(t, err)
	data, err := again.LoadOrCreate("ca.key", true, func() ([]byte, error) { t.Fatal("created again"); return nil, nil })
	require.NoError(t, err)
	assert.Equal(t, "key", string(data))
}

func TestDefaultStateDir(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/x/state")
	dir, err := DefaultStateDir("thesis")
	require.NoError(t, err)
	assert.Equal(t, "/x/state/planetstage/thesis", dir)
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/u")
	dir, err = DefaultStateDir("thesis")
	require.NoError(t, err)
	assert.Equal(t, "/home/u/.local/state/planetstage/thesis", dir)
}

// A DryRun view reads what is on disk and keeps its own changes in memory:
// the directory is byte for byte what it was.
func TestDryRunWritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := OpenState(dir)
	require.NoError(t, err)
	require.NoError(t, s.Write("openvpn/r1.key", []byte("on disk"), true))
	require.NoError(t, s.Write("gone", []byte("x"), false))
	before := treeOf(t, dir)

	d := s.DryRun()
	assert.True(t, d.IsDryRun())
	assert.False(t, s.IsDryRun())
	assert.Same(t, d, d.DryRun())
	got, err := d.Read("openvpn/r1.key")
	require.NoError(t, err)
	assert.Equal(t, "on disk", string(got))

	created := 0
	mk := func() ([]byte, error) { created++; return []byte("new key"), nil }
	got, err = d.LoadOrCreate("pki/ca.key", true, mk)
	require.NoError(t, err)
	assert.Equal(t, "new key", string(got))
	got, err = d.LoadOrCreate("pki/ca.key", true, mk)
	require.NoError(t, err)
	assert.Equal(t, "new key", string(got))
	assert.Equal(t, 1, created, "the view remembers what it created")
	got, err = d.LoadOrCreate("openvpn/r1.key", true, mk)
	require.NoError(t, err)
	assert.Equal(t, "on disk", string(got))

	require.NoError(t, d.Write("openvpn/r1.key", []byte("rotated"), true))
	got, err = d.Read("openvpn/r1.key")
	require.NoError(t, err)
	assert.Equal(t, "rotated", string(got))
	require.NoError(t, d.Remove("gone"))
	_, err = d.Read("gone")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Error(t, d.Write("../escape", []byte("x"), false), "names stay inside, as for the State")

	assert.Equal(t, before, treeOf(t, dir), "a dry run changed the directory")
	got, err = s.Read("openvpn/r1.key")
	require.NoError(t, err)
	assert.Equal(t, "on disk", string(got))
	_, err = s.Read("pki/ca.key")
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

// treeOf maps every file under dir to its contents.
func treeOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	tree := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		tree[p] = string(data)
		return err
	}))
	return tree
}

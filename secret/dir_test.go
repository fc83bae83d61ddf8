package secret_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/secret"
)

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	require.NoError(t, err)
	return info.Mode().Perm()
}

func TestDirModes(t *testing.T) {
	t.Parallel()
	root := filepath.Join(t.TempDir(), "thesis")
	d, err := secret.OpenDir(root)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o700), mode(t, root))

	require.NoError(t, d.Write("openvpn/vyos01.key", []byte("key"), true))
	require.NoError(t, d.Write("openvpn/vyos01.crt", []byte("cert"), false))
	require.NoError(t, d.Write("created.json", []byte("{}"), false))
	for name, want := range map[string]fs.FileMode{
		"openvpn/vyos01.key": 0o600,
		"openvpn/vyos01.crt": 0o644,
		"created.json":       0o644,
		"openvpn":            0o700,
	} {
		assert.Equal(t, want, mode(t, filepath.Join(root, name)), name)
	}
	got, err := d.Read("openvpn/vyos01.key")
	require.NoError(t, err)
	assert.Equal(t, "key", string(got))
	entries, err := os.ReadDir(filepath.Join(root, "openvpn"))
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temporary files left behind")

	// A rewrite that turns a file secret tightens it.
	require.NoError(t, d.Write("created.json", []byte("{}"), true))
	assert.Equal(t, fs.FileMode(0o600), mode(t, filepath.Join(root, "created.json")))
}

func TestDirMissingNames(t *testing.T) {
	t.Parallel()
	d, err := secret.OpenDir(t.TempDir())
	require.NoError(t, err)
	_, err = d.Read("missing")
	assert.True(t, errors.Is(err, fs.ErrNotExist), "got %v", err)
	assert.NoError(t, d.Remove("missing"))
	require.NoError(t, d.Write("gone", nil, false))
	require.NoError(t, d.Remove("gone"))
	_, err = d.Read("gone")
	assert.True(t, errors.Is(err, fs.ErrNotExist), "got %v", err)
}

func TestDirConfinesNames(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	d, err := secret.OpenDir(filepath.Join(parent, "state"))
	require.NoError(t, err)
	for _, name := range []string{"", ".", "..", "../escape", "a/../../escape", "/etc/passwd", "/tmp/escape"} {
		_, err := d.Path(name)
		assert.Error(t, err, "Path(%q)", name)
		assert.Error(t, d.Write(name, []byte("x"), false), "Write(%q)", name)
		_, err = d.Read(name)
		assert.Error(t, err, "Read(%q)", name)
		assert.False(t, errors.Is(err, fs.ErrNotExist), "Read(%q) is refused, not missing", name)
		assert.Error(t, d.Remove(name), "Remove(%q)", name)
	}
	entries, err := os.ReadDir(parent)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "state", entries[0].Name(), "nothing written beside the directory")

	// Names that stay inside after cleaning are fine.
	p, err := d.Path("a/../b")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(parent, "state", "b"), p)
}

func TestNewDirCreatesTheDirectoryOnFirstWrite(t *testing.T) {
	t.Parallel()
	root := filepath.Join(t.TempDir(), "later")
	d := secret.NewDir(root)
	_, err := d.Read("k")
	assert.True(t, errors.Is(err, fs.ErrNotExist), "got %v", err)
	assert.NoDirExists(t, root, "NewDir touches nothing")
	require.NoError(t, d.Write("k", []byte("v"), true))
	assert.Equal(t, fs.FileMode(0o700), mode(t, root))
	assert.Equal(t, fs.FileMode(0o600), mode(t, filepath.Join(root, "k")))
}

// OpenDir creates a missing directory 0700 but never changes the mode of
// one that exists: "--state ~" once made the home directory 0700. A
// directory that others can write is refused instead, naming it, its mode
// and what to do; one they can only read shows them names, not secrets.
func TestOpenDirLeavesAnExistingDirectoryAlone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode fs.FileMode
		ok   bool
	}{
		{0o700, true},
		{0o711, true},
		{0o750, true},
		{0o755, true}, // a home directory, and what t.TempDir makes under umask 022
		{0o500, true},
		{0o720, false},
		{0o770, false},
		{0o702, false},
		{0o777, false},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			t.Parallel()
			root := filepath.Join(t.TempDir(), "home")
			require.NoError(t, os.Mkdir(root, 0o700))
			require.NoError(t, os.Chmod(root, tt.mode))
			t.Cleanup(func() { _ = os.Chmod(root, 0o700) })
			_, err := secret.OpenDir(root)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				require.Error(t, err)
				for _, want := range []string{root, fmt.Sprintf("%#o", tt.mode), "chmod 700", "new directory"} {
					assert.Contains(t, err.Error(), want)
				}
			}
			assert.Equal(t, tt.mode, mode(t, root), "the mode is left as it was")
		})
	}
}

func TestOpenDirCreatesAMissingDirectory(t *testing.T) {
	t.Parallel()
	root := filepath.Join(t.TempDir(), "state", "planetstage", "thesis")
	_, err := secret.OpenDir(root)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o700), mode(t, root))
	assert.Equal(t, fs.FileMode(0o700), mode(t, filepath.Dir(root)), "missing parents too")

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err = secret.OpenDir(file)
	assert.ErrorContains(t, err, "not a directory")
}

func TestLoadOrCreateCreatesOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	for round := range 20 {
		d, err := secret.OpenDir(t.TempDir())
		require.NoError(t, err)
		var calls atomic.Int32
		var wg sync.WaitGroup
		results := make([]string, 16)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				data, err := d.LoadOrCreate("pki/ca.key", true, func() ([]byte, error) {
					return []byte{byte('a' + calls.Add(1))}, nil
				})
				assert.NoError(t, err)
				results[i] = string(data)
			}()
		}
		wg.Wait()
		require.Equal(t, int32(1), calls.Load(), "round %d", round)
		for _, r := range results {
			assert.Equal(t, "b", r, "round %d: every caller gets the one key", round)
		}
		assert.Equal(t, fs.FileMode(0o600), mode(t, filepath.Join(d.Root(), "pki", "ca.key")))

		// A second process (a re-apply) reuses what the first stored.
		again, err := secret.OpenDir(d.Root())
		require.NoError(t, err)
		data, err := again.LoadOrCreate("pki/ca.key", true, func() ([]byte, error) {
			t.Error("created again")
			return nil, nil
		})
		require.NoError(t, err)
		assert.Equal(t, "b", string(data))
	}
}

func TestLoadOrCreateFailureStoresNothing(t *testing.T) {
	t.Parallel()
	d, err := secret.OpenDir(t.TempDir())
	require.NoError(t, err)
	boom := errors.New("no entropy")
	_, err = d.LoadOrCreate("k", true, func() ([]byte, error) { return nil, boom })
	assert.ErrorIs(t, err, boom)
	_, err = d.Read("k")
	assert.True(t, errors.Is(err, fs.ErrNotExist), "nothing stored: %v", err)

	// The next call tries again.
	data, err := d.LoadOrCreate("k", true, func() ([]byte, error) { return []byte("v"), nil })
	require.NoError(t, err)
	assert.Equal(t, "v", string(data))
}

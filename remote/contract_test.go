package remote

// The behaviour every Runner owes its callers, checked against Local and
// against SSH to a real sshd on this machine (so files and processes the
// runner makes can be inspected directly).

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testRunnerContract runs the contract against r; dir is a directory on
// this machine that r may write in.
func testRunnerContract(t *testing.T, r Runner, dir string) {
	t.Run("run", func(t *testing.T) { testRun(t, r) })
	t.Run("files", func(t *testing.T) { testFiles(t, r, dir) })
	t.Run("atomic", func(t *testing.T) { testAtomicWrite(t, r, dir) })
	t.Run("stale temporary file", func(t *testing.T) { testStaleTemp(t, r, dir) })
	t.Run("cancel", func(t *testing.T) { testCancel(t, r, dir) })
}

func testRun(t *testing.T, r Runner) {
	tests := []struct {
		name       string
		command    string
		stdin      string
		wantOut    string
		wantErr    string
		wantStatus int // 0: success
	}{
		{name: "stdout", command: "echo hello", wantOut: "hello\n"},
		{name: "stdin", command: "tr a-z A-Z", stdin: "abc\n", wantOut: "ABC\n"},
		{name: "no stdin is empty", command: "wc -c", wantOut: "0\n"},
		{name: "stderr", command: "echo oops >&2", wantErr: "oops\n"},
		{name: "exit status", command: "echo partial; echo why >&2; exit 3", wantOut: "partial\n", wantErr: "why\n", wantStatus: 3},
		{name: "posix sh", command: `x=2; echo $((x+1)) "$0"`, wantOut: "3 /bin/sh\n"},
		{name: "large output", command: "head -c 3000000 /dev/zero | wc -c", wantOut: "3000000\n"},
		{name: "large input", command: "wc -c", stdin: strings.Repeat("x", 2_000_000), wantOut: "2000000\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			err := r.Run(t.Context(), Cmd{Command: tt.command, Stdin: strings.NewReader(tt.stdin), Stdout: &stdout, Stderr: &stderr})
			if tt.wantStatus == 0 {
				require.NoError(t, err)
			} else {
				var exit *ExitError
				require.ErrorAs(t, err, &exit)
				assert.Equal(t, tt.wantStatus, exit.Status)
				assert.Equal(t, r.Host(), exit.Host)
				assert.Equal(t, tt.command, exit.Command)
			}
			assert.Equal(t, tt.wantOut, strings.TrimLeft(stdout.String(), " "))
			assert.Equal(t, tt.wantErr, stderr.String())
		})
	}
	t.Run("Output carries stderr", func(t *testing.T) {
		t.Parallel()
		out, err := Output(t.Context(), r, "echo some; echo 'no such thing' >&2; exit 2")
		assert.Equal(t, "some\n", out)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "no such thing")
		assert.Contains(t, err.Error(), "status 2")
	})
}

func testFiles(t *testing.T, r Runner, dir string) {
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	tests := []struct {
		name string
		path string
		data []byte
		mode fs.FileMode
	}{
		{name: "new dirs", path: "a/b/c.conf", data: []byte("key = value\n"), mode: 0o640},
		{name: "secret", path: "keys/tls.key", data: []byte("PRIVATE"), mode: 0o600},
		{name: "empty", path: "empty", data: nil, mode: 0o644},
		{name: "binary", path: "bin", data: allBytes, mode: 0o755},
		{name: "odd name", path: "we'ird $(name) *.txt", data: []byte("x"), mode: 0o644},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, "files", tt.path)
			require.NoError(t, r.WriteFile(t.Context(), path, tt.data, tt.mode))
			got, err := r.ReadFile(t.Context(), path)
			require.NoError(t, err)
			assert.Equal(t, len(tt.data), len(got))
			assert.True(t, bytes.Equal(tt.data, got), "content differs")
			st, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, tt.mode, st.Mode().Perm())
			// No temporary file is left behind. (Other subtests write
			// into the same directory at the same time.)
			entries, err := os.ReadDir(filepath.Dir(path))
			require.NoError(t, err)
			for _, e := range entries {
				assert.False(t, strings.HasPrefix(e.Name(), "."+filepath.Base(path)+".tmp-"), e.Name())
			}
		})
	}
	t.Run("overwrite changes mode", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(dir, "files", "overwrite")
		require.NoError(t, r.WriteFile(t.Context(), path, []byte("one"), 0o644))
		require.NoError(t, r.WriteFile(t.Context(), path, []byte("two"), 0o600))
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "two", string(got))
		st, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o600), st.Mode().Perm())
	})
	for _, missing := range []string{"nope", "no/such/dir/file"} {
		t.Run("missing "+missing, func(t *testing.T) {
			t.Parallel()
			_, err := r.ReadFile(t.Context(), filepath.Join(dir, "files", missing))
			require.Error(t, err)
			assert.ErrorIs(t, err, fs.ErrNotExist)
			assert.Contains(t, err.Error(), missing)
		})
	}
	t.Run("directory is not a file", func(t *testing.T) {
		t.Parallel()
		_, err := r.ReadFile(t.Context(), dir)
		require.Error(t, err)
		assert.NotErrorIs(t, err, fs.ErrNotExist)
	})
}

// testAtomicWrite rewrites a file while a reader watches it: the reader
// must only ever see one complete version or the other.
func testAtomicWrite(t *testing.T, r Runner, dir string) {
	path := filepath.Join(dir, "atomic", "big.conf")
	versions := [][]byte{bytes.Repeat([]byte("a"), 256<<10), bytes.Repeat([]byte("b"), 256<<10)}
	require.NoError(t, r.WriteFile(t.Context(), path, versions[0], 0o644))

	stop := make(chan struct{})
	var reads, torn int
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			got, err := os.ReadFile(path)
			if err != nil {
				torn++ // the file must always exist
				continue
			}
			reads++
			if !bytes.Equal(got, versions[0]) && !bytes.Equal(got, versions[1]) {
				torn++
			}
		}
	})
	for i := range 20 {
		require.NoError(t, r.WriteFile(t.Context(), path, versions[i%2], 0o644))
	}
	close(stop)
	wg.Wait()
	assert.Zero(t, torn, "reader saw a missing or partial file")
	assert.Positive(t, reads)
}

// testStaleTemp leaves what a write killed before its rename leaves (a
// temporary file beside the target) and checks the next write of the same
// file removes it, and no other file.
func testStaleTemp(t *testing.T, r Runner, dir string) {
	sub := filepath.Join(dir, "stale")
	require.NoError(t, os.MkdirAll(sub, 0o755))
	path := filepath.Join(sub, "haproxy.cfg")
	stale := filepath.Join(sub, ".haproxy.cfg.tmp-Ab12Cd")
	other := filepath.Join(sub, ".other.cfg.tmp-Ab12Cd")
	for _, p := range []string{stale, other} {
		require.NoError(t, os.WriteFile(p, []byte("half a config"), 0o644))
	}
	require.NoError(t, r.WriteFile(t.Context(), path, []byte("whole\n"), 0o644))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "whole\n", string(got))
	assert.NoFileExists(t, stale, "the killed write's temporary file is still there")
	assert.FileExists(t, other, "another file's temporary file is not this write's to remove")
	entries, err := os.ReadDir(sub)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"haproxy.cfg", ".other.cfg.tmp-Ab12Cd"}, names)
}

// testCancel cancels a command that started a background child, and
// checks both processes are gone and Run returned promptly.
func testCancel(t *testing.T, r Runner, dir string) {
	pidFile := filepath.Join(dir, "cancel.pids")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// Cancel once both processes run (a loaded machine may take a while
	// to start them), plus a moment.
	cancelled := make(chan time.Time, 1)
	go func() {
		for {
			if data, err := os.ReadFile(pidFile); err == nil && len(strings.Fields(string(data))) == 2 {
				break
			}
			if ctx.Err() != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		cancelled <- time.Now()
		cancel()
	}()
	err := r.Run(ctx, Cmd{Command: "sleep 61 & echo $! >" + ShellQuote(pidFile) + "; echo $$ >>" + ShellQuote(pidFile) + "; sleep 62; echo not reached"})
	returned := time.Now()
	require.Error(t, err)
	select {
	case at := <-cancelled:
		// Without the kill, Run would take a minute.
		assert.Less(t, returned.Sub(at), 5*time.Second, "Run did not return promptly after cancel")
	default:
		t.Fatalf("Run returned before it was cancelled: %v", err)
	}
	assert.ErrorIs(t, err, context.Canceled)

	data, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	pids := strings.Fields(string(data))
	require.Len(t, pids, 2)
	for _, p := range pids {
		pid, err := strconv.Atoi(p)
		require.NoError(t, err)
		assert.Eventually(t, func() bool { return !processRunning(pid) }, 5*time.Second, 20*time.Millisecond,
			"process %d still runs after cancel", pid)
	}
}

// processRunning says whether pid exists and is not a zombie.
func processRunning(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	// Fields after the command name, which is in parentheses: state first.
	i := bytes.LastIndexByte(stat, ')')
	return err != nil || i < 0 || len(stat) < i+3 || (stat[i+2] != 'Z' && stat[i+2] != 'X')
}

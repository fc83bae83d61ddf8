package k8snode

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/internal/proc/proctest"
)

// testBuilder is a builder without a source tree or Go toolchain, for the
// steps that need neither.
func testBuilder(t *testing.T) *builder {
	return &builder{
		opts:      Options{ImageName: "planetstage/k8snode"},
		log:       slog.New(slog.DiscardHandler),
		cache:     t.TempDir(),
		dockerCLI: "docker",
	}
}

// slowTree is a shell script that stands in for `go build` and its
// compilers: after setup it starts a child that writes its PID to the file
// named by $1 and sleeps a minute in the foreground.
func slowTree(setup string) string {
	return setup + ` sh -c 'echo $$ > "$1"; exec sleep 60' child "$1"; echo "went on after its child"`
}

func needSh(t *testing.T) string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("needs sh on PATH to run stand-in commands")
	}
	if _, err := exec.LookPath("sleep"); err != nil {
		t.Skip("needs sleep on PATH to run stand-in commands")
	}
	return sh
}

// cancelWhenStarted cancels once the stand-in's child has written its PID
// and returns the PID and the call's result, failing if the call does not
// return within ten seconds.
func cancelWhenStarted(t *testing.T, cancel context.CancelFunc, pidFile string, done <-chan error) (child int, err error, elapsed time.Duration) {
	t.Helper()
	child = proctest.PID(t, pidFile)
	start := time.Now()
	cancel()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("still running ten seconds after cancel")
	}
	return child, err, time.Since(start)
}

// The two ways a program may take SIGINT: die of it, or exit 0 (as some
// tools do when interrupted, output unfinished). Both must read as
// cancelled.
var interruptions = []struct{ name, setup string }{
	{"dies of SIGINT", ""},
	{"exits 0 on SIGINT", `trap 'exit 0' INT;`},
}

// TestRunStopsOnCancel: cancelling ctx stops the program and its child
// within seconds and run returns ctx's error.
func TestRunStopsOnCancel(t *testing.T) {
	t.Parallel()
	sh := needSh(t)
	for _, tc := range interruptions {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := testBuilder(t)
			pidFile := filepath.Join(t.TempDir(), "child.pid")
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- b.run(ctx, t.TempDir(), nil, nil, sh, "-c", slowTree(tc.setup), "slow", pidFile) }()

			child, err, elapsed := cancelWhenStarted(t, cancel, pidFile, done)
			assert.ErrorIs(t, err, context.Canceled)
			assert.Less(t, elapsed, 3*time.Second)
			assert.True(t, proctest.Gone(child), "the child (pid %d) outlived the cancel", child)
		})
	}
}

// TestCancelledStageLeavesNoMarker: a stage cancelled half way leaves
// neither its output nor its temporary directory, so the next build redoes
// it; and that build replaces what a killed one left.
func TestCancelledStageLeavesNoMarker(t *testing.T) {
	t.Parallel()
	sh := needSh(t)
	for _, tc := range interruptions {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := testBuilder(t)
			final := filepath.Join(b.cache, "bin-0123456789abcdef")
			pidFile := filepath.Join(t.TempDir(), "child.pid")
			res := &Result{}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				done <- b.stage(ctx, res, "binaries", final, func(ctx context.Context, tmp string) error {
					if err := os.WriteFile(filepath.Join(tmp, "kubelet"), []byte("half"), 0o755); err != nil {
						return err
					}
					return b.run(ctx, tmp, nil, nil, sh, "-c", slowTree(tc.setup), "slow", pidFile)
				})
			}()

			_, err, _ := cancelWhenStarted(t, cancel, pidFile, done)
			require.ErrorIs(t, err, context.Canceled)
			assert.NoDirExists(t, final, "an interrupted stage must not look done")
			assert.NoDirExists(t, final+".tmp", "an interrupted stage's files are removed")
			assert.Empty(t, res.Built)

			// A killed build leaves its temporary directory; the next one
			// starts from scratch and marks the stage done.
			require.NoError(t, os.MkdirAll(final+".tmp", 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(final+".tmp", "stale"), nil, 0o644))
			err = b.stage(t.Context(), res, "binaries", final, func(_ context.Context, tmp string) error {
				return os.WriteFile(filepath.Join(tmp, "kubelet"), []byte("whole"), 0o755)
			})
			require.NoError(t, err)
			assert.FileExists(t, filepath.Join(final, ".done"))
			assert.NoFileExists(t, filepath.Join(final, "stale"))
			data, err := os.ReadFile(filepath.Join(final, "kubelet"))
			require.NoError(t, err)
			assert.Equal(t, "whole", string(data))
			assert.Equal(t, []string{"binaries"}, res.Built)
		})
	}
}

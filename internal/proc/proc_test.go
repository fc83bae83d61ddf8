package proc

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/internal/proc/proctest"
)

// childScript starts a child that records its PID in $1 and sleeps a minute
// in the foreground of the script, after running setup (a trap, say).
func childScript(setup string) string {
	return `sh -c '` + setup + ` echo $$ > "$1"; exec sleep 60' child "$1"; echo "the child was not stopped"`
}

// TestCancelStopsTheGroup cancels a command whose child sleeps a minute: the
// call returns long before that and the child is gone, whether it dies of
// SIGINT or ignores it and needs the SIGKILL that follows.
func TestCancelStopsTheGroup(t *testing.T) {
	t.Parallel()
	sh := needSh(t)
	tests := []struct {
		name    string
		script  string
		grace   time.Duration
		atLeast time.Duration // the call must not return sooner: SIGKILL waited for grace
		within  time.Duration
		wantErr func(ctx context.Context, err error) bool
	}{
		{
			name:   "child dies of SIGINT; no need to wait for the grace period",
			script: childScript(""), grace: time.Minute, within: 3 * time.Second,
			wantErr: func(_ context.Context, err error) bool {
				var exit *exec.ExitError
				return errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGINT
			},
		},
		{
			name:   "child ignores SIGINT; SIGKILL after the grace period",
			script: childScript(`trap "" INT;`), grace: time.Second, atLeast: time.Second, within: 4 * time.Second,
			wantErr: func(_ context.Context, err error) bool { return err != nil },
		},
		{
			name:   "program exits 0 on SIGINT; still reported as cancelled",
			script: `trap 'exit 0' INT; ` + childScript(""), grace: time.Minute, within: 3 * time.Second,
			wantErr: func(ctx context.Context, err error) bool { return errors.Is(err, context.Canceled) },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pidFile := filepath.Join(t.TempDir(), "child.pid")
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			cmd := command(ctx, tc.grace, sh, "-c", tc.script, "script", pidFile)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			require.NoError(t, cmd.Start())
			child := proctest.PID(t, pidFile)

			start := time.Now()
			cancel()
			err := cmd.Wait()
			elapsed := time.Since(start)

			assert.True(t, tc.wantErr(ctx, err), "error: %v", err)
			assert.GreaterOrEqual(t, elapsed, tc.atLeast)
			assert.Less(t, elapsed, tc.within, "Wait returned only after %s", elapsed)
			assert.True(t, proctest.Gone(child), "child %d still runs", child)
			assert.NotContains(t, out.String(), "the child was not stopped", "the script went on after its child")
		})
	}
}

// TestStrayChildCannotHoldWait: the program exits at once but leaves a child
// holding its output pipe; Wait gives up after WaitDelay instead of waiting
// for the child's minute.
func TestStrayChildCannotHoldWait(t *testing.T) {
	t.Parallel()
	sh := needSh(t)
	pidFile := filepath.Join(t.TempDir(), "stray.pid")
	cmd := command(t.Context(), 500*time.Millisecond, sh, "-c", `sleep 60 & echo $! > "$1"; echo started`, "script", pidFile)
	start := time.Now()
	out, err := cmd.Output()
	elapsed := time.Since(start)
	stray := proctest.PID(t, pidFile)
	t.Cleanup(func() { _ = syscall.Kill(stray, syscall.SIGKILL) })

	assert.ErrorIs(t, err, exec.ErrWaitDelay)
	assert.Equal(t, "started\n", string(out))
	assert.Less(t, elapsed, 5*time.Second)
}

func needSh(t *testing.T) string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("these tests run a shell script and need sh on PATH")
	}
	if _, err := exec.LookPath("sleep"); err != nil {
		t.Skip("these tests need sleep on PATH")
	}
	return sh
}

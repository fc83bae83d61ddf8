package proc

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Grace is how long a cancelled program and its descendants have between
// SIGINT and SIGKILL: enough for mmdebstrap to unmount and remove its
// chroot, short enough that Ctrl-C feels immediate.
const Grace = 5 * time.Second

// Command returns exec.CommandContext(ctx, name, args...) set up to run in a
// process group of its own that cancellation stops as a whole: SIGINT when
// ctx is done, SIGKILL Grace later. Its WaitDelay makes Wait return at most
// about Grace after ctx is done or the program exits, even if a descendant
// still holds an output pipe. Callers must not replace SysProcAttr or Cancel.
//
// A program that exits with a failure status after SIGINT makes Wait report
// that status, not ctx's error: callers that want cancellation to win check
// ctx.Err() after Wait.
func Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return command(ctx, Grace, name, args...)
}

func command(ctx context.Context, grace time.Duration, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		pgid := cmd.Process.Pid
		// The timer fires even if the group is already gone; ESRCH then.
		// (The group ID could only be reused by a new group whose leader
		// got the same PID within grace: not a practical concern.)
		time.AfterFunc(grace, func() { _ = signalGroup(pgid, syscall.SIGKILL) })
		return signalGroup(pgid, syscall.SIGINT)
	}
	// After grace the group has had SIGKILL; the extra second lets the
	// kernel deliver it before exec closes the pipes and gives up.
	cmd.WaitDelay = grace + time.Second
	return cmd
}

// signalGroup sends sig to every process in the group pgid.
func signalGroup(pgid int, sig syscall.Signal) error {
	err := syscall.Kill(-pgid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

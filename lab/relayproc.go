package lab

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/planetstage/planetstage/internal/atomicfile"
	"github.com/planetstage/planetstage/wan"
)

// A lab whose program exits before the lab is torn down (`stage apply
// --lab`, then `stage verify --lab` from another process) needs its WAN
// relay to outlive that program: the tunnels' remotes are the relay's
// faces. Options.RelayCommand says how to start this program as the relay
// (ServeRelay); the lab then runs it as a detached process, finds it again
// through the pid file in its state directory, restarts it when an Apply
// finds it gone, and Down stops it. The relay's files live there too: its
// configuration, its log and its counters.
const (
	relayConfigFile = "wan-relay.json"
	relayPIDFile    = "wan-relay.pid"
	relayLogFile    = "wan-relay.log"
	relayStatsFile  = "wan-relay.stats.json"
)

// RelayCommand returns the command that runs this program as the lab's
// WAN relay with args, which the program hands to ServeRelay.
type RelayCommand func(args ...string) (*exec.Cmd, error)

// SelfRelay is the RelayCommand of a program that runs ServeRelay when its
// first argument is sub: it runs this same executable again with sub and
// the relay's arguments. `stage wan-relay` is such a subcommand.
func SelfRelay(sub string) RelayCommand {
	return func(args ...string) (*exec.Cmd, error) {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		return exec.Command(exe, append([]string{sub}, args...)...), nil
	}
}

// ErrRelayUsage is ServeRelay's error for arguments it cannot use.
var ErrRelayUsage = errors.New("usage: wan-relay -config FILE [-stats FILE] [-interval D]")

// ServeRelay runs the relay a lab started with a RelayCommand, with the
// arguments it was given (-config FILE [-stats FILE] [-interval D]), until
// ctx is cancelled. Logs go to logOut.
func ServeRelay(ctx context.Context, args []string, logOut io.Writer) error {
	fs := flag.NewFlagSet("wan-relay", flag.ContinueOnError)
	fs.SetOutput(logOut)
	config := fs.String("config", "", "relay configuration `FILE` (JSON, a wan.RelayFile)")
	stats := fs.String("stats", "", "write the paths' counters to `FILE` (JSON)")
	interval := fs.Duration("interval", time.Second, "how often to write -stats")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", ErrRelayUsage, err)
	}
	if *config == "" || fs.NArg() > 0 {
		return ErrRelayUsage
	}
	return wan.ServeRelayFile(ctx, slog.New(slog.NewTextHandler(logOut, nil)), *config, *stats, *interval)
}

// ensureRelayProcess starts the relay process for paths unless one with
// the same configuration already runs from dir.
func ensureRelayProcess(ctx context.Context, command RelayCommand, dir string, paths []wan.PathConfig) error {
	data := relayConfig(paths)
	if data == nil {
		return errors.New("wan relay: paths do not marshal")
	}
	config := filepath.Join(dir, relayConfigFile)
	if _, ok := relayPID(dir); ok {
		if old, err := os.ReadFile(config); err == nil && bytes.Equal(old, data) {
			return nil
		}
		if err := stopRelayProcess(ctx, dir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := atomicfile.Write(config, data, 0o644); err != nil {
		return err
	}
	stats := filepath.Join(dir, relayStatsFile)
	_ = os.Remove(stats)
	logf, err := os.OpenFile(filepath.Join(dir, relayLogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd, err := command("-config", config, "-stats", stats, "-interval", "250ms")
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	// A session of its own: the relay outlives this process and its
	// terminal's signals.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	inheritNothing()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the wan relay: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// It is up once it has written its first counters (its sockets are
	// open by then); if it exits first, its log says why.
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("wan relay exited (%v); see %s", err, filepath.Join(dir, relayLogFile))
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			return ctx.Err()
		case <-deadline.C:
			_ = cmd.Process.Kill()
			return fmt.Errorf("wan relay did not come up in 10s; see %s", filepath.Join(dir, relayLogFile))
		case <-tick.C:
			if _, err := os.Stat(stats); err == nil {
				return atomicfile.Write(filepath.Join(dir, relayPIDFile), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
			}
		}
	}
}

// relayPID returns the pid of the lab's relay process when it runs.
func relayPID(dir string) (int, bool) {
	raw, err := os.ReadFile(filepath.Join(dir, relayPIDFile))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return relayPIDOf(pid, dir)
}

// relayPIDOf reports whether pid is a running relay of the lab whose
// state is in dir: a pid file outlives a reboot, and pids are reused.
func relayPIDOf(pid int, dir string) (int, bool) {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(filepath.Join(dir, relayConfigFile))) {
		return 0, false
	}
	return pid, true
}

// stopRelayProcess stops the lab's relay process, if it runs, and waits up
// to five seconds for it to go.
func stopRelayProcess(ctx context.Context, dir string) error {
	pid, ok := relayPID(dir)
	if !ok {
		_ = os.Remove(filepath.Join(dir, relayPIDFile))
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop the wan relay (pid %d): %w", pid, err)
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for {
		if _, ok := relayPIDOf(pid, dir); !ok {
			return os.Remove(filepath.Join(dir, relayPIDFile))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("wan relay (pid %d) still runs 5s after SIGTERM", pid)
		case <-tick.C:
		}
	}
}

// inheritNothing marks every descriptor of this process above stderr
// close-on-exec. Go opens its own that way, but a program can inherit
// others: flock(1) runs its command with the lock's descriptor open, and
// a relay process started from it held the lock for as long as the lab
// ran. What a Go program starts gets its descriptors explicitly (stdio,
// ExtraFiles), so nothing it means to pass on is lost.
func inheritNothing() {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range fds {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}

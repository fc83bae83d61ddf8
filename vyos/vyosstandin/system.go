package vyosstandin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// System is what realising needs of the machine: commands that run to
// their end (ip), daemons, and whether a network interface exists.
type System interface {
	// Run runs argv and returns an error with its output when it fails.
	Run(ctx context.Context, argv ...string) error
	// Start starts argv as the daemon called id, detached from the
	// session; Stop stops it (nothing when it does not run); Running says
	// whether it runs.
	Start(ctx context.Context, id string, argv ...string) error
	Stop(ctx context.Context, id string) error
	Running(id string) bool
	// LinkExists reports whether network interface name exists.
	LinkExists(name string) bool
}

// HostSystem is the machine the stand-in runs on: commands and daemons
// are processes, a daemon's pid is kept in /run/vyos-standin/daemons and
// its output goes to LogDir/<id>.log.
type HostSystem struct {
	Root   string
	LogDir string
}

// Run implements System.
func (h HostSystem) Run(ctx context.Context, argv ...string) error {
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (h HostSystem) pidFile(id string) string {
	return filepath.Join(h.Root, stateDir, "daemons", strings.ReplaceAll(id, " ", "-")+".pid")
}

// Start implements System: the daemon runs in a session of its own, so
// that it outlives the SSH session that committed it.
func (h HostSystem) Start(ctx context.Context, id string, argv ...string) error {
	if err := os.MkdirAll(h.LogDir, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(h.pidFile(id)), 0o755); err != nil {
		return err
	}
	log, err := os.OpenFile(filepath.Join(h.LogDir, strings.ReplaceAll(id, " ", "-")+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", argv[0], err)
	}
	pid := cmd.Process.Pid
	// Not waited for: the machine's init reaps it once this session ends.
	_ = cmd.Process.Release()
	return os.WriteFile(h.pidFile(id), []byte(strconv.Itoa(pid)+"\n"), 0o644)
}

func (h HostSystem) pid(id string) int {
	data, err := os.ReadFile(h.pidFile(id))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if pid <= 0 {
		return 0
	}
	// Alive, and not a zombie.
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	if i := bytes.LastIndexByte(stat, ')'); i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' {
		return 0
	}
	return pid
}

// Running implements System.
func (h HostSystem) Running(id string) bool { return h.pid(id) != 0 }

// Stop implements System: SIGTERM, then SIGKILL after five seconds.
func (h HostSystem) Stop(ctx context.Context, id string) error {
	defer os.Remove(h.pidFile(id))
	pid := h.pid(id)
	if pid == 0 {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s: %w", id, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.pid(id) != 0 {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// LinkExists implements System.
func (h HostSystem) LinkExists(name string) bool {
	_, err := os.Stat(filepath.Join("/sys/class/net", name))
	return !errors.Is(err, fs.ErrNotExist)
}

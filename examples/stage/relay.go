package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/wan"
)

// The lab's WAN relay runs as `stage wan-relay`, a process of its own, and
// not in the stage process that brings the lab up: that one exits after
// the apply, and the tunnels, whose remotes are the relay's faces, would
// lose their path with it; `stage verify` and `stage measure` run later
// from other processes. The relay's files live in the lab's state
// directory: its configuration, its pid, its log and its counters.
const (
	relayConfigFile = "wan-relay.json"
	relayPIDFile    = "wan-relay.pid"
	relayLogFile    = "wan-relay.log"
	relayStatsFile  = "wan-relay.stats.json"
)

// relayCommand is the command line of the relay process: this program's
// wan-relay command. Tests replace it.
var relayCommand = func(args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return exec.Command(exe, append([]string{"wan-relay"}, args...)...), nil
}

// labStateDir is the lab's state directory as lab.Options.StateDir gets it.
func labStateDir(o *options, name string) (string, error) {
	if o.labState != "" {
		return o.labState, nil
	}
	return lab.DefaultStateDir(name)
}

// processRelay returns a lab.RelayRunner that makes sure a relay process
// with exactly these paths runs (starting one, or replacing one that runs
// other paths) and leaves it running: its stop does nothing. stopRelay
// stops it, as `stage destroy --lab` does.
func processRelay(dir string) lab.RelayRunner {
	return func(ctx context.Context, paths []wan.PathConfig) (func() error, error) {
		if err := ensureRelayProcess(ctx, dir, paths); err != nil {
			return nil, err
		}
		return func() error { return nil }, nil
	}
}

// ensureRelayProcess starts the relay process for paths unless one with
// the same configuration already runs.
func ensureRelayProcess(ctx context.Context, dir string, paths []wan.PathConfig) error {
	data, err := json.MarshalIndent(wan.RelayFile{Paths: paths}, "", "  ")
	if err != nil {
		return err
	}
	config := filepath.Join(dir, relayConfigFile)
	if _, ok := relayPID(dir); ok {
		if old, err := os.ReadFile(config); err == nil && bytes.Equal(old, data) {
			return nil
		}
		if err := stopRelay(dir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(config, data, 0o644); err != nil {
		return err
	}
	stats := filepath.Join(dir, relayStatsFile)
	_ = os.Remove(stats)
	logf, err := os.OpenFile(filepath.Join(dir, relayLogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd, err := relayCommand("-config", config, "-stats", stats, "-interval", "250ms")
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	// A session of its own: the relay outlives this process and its
	// terminal's signals.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
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
				return os.WriteFile(filepath.Join(dir, relayPIDFile), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
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

// stopRelay stops the lab's relay process, if it runs, and waits up to
// five seconds for it to go.
func stopRelay(dir string) error {
	pid, ok := relayPID(dir)
	if !ok {
		_ = os.Remove(filepath.Join(dir, relayPIDFile))
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop the wan relay (pid %d): %w", pid, err)
	}
	for range 100 {
		if _, ok := relayPIDOf(pid, dir); !ok {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, ok := relayPIDOf(pid, dir); ok {
		return fmt.Errorf("wan relay (pid %d) still runs 5s after SIGTERM", pid)
	}
	return os.Remove(filepath.Join(dir, relayPIDFile))
}

package haproxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/remote"
)

// Defaults for Service, matching Debian's haproxy package.
const (
	DefaultConfigPath = "/etc/haproxy/haproxy.cfg"
	DefaultPIDFile    = "/run/haproxy.pid"
)

// Manager is how HAProxy is started and reloaded on a host.
type Manager string

const (
	// ManagerAuto uses systemd where it runs (/run/systemd/system exists)
	// and master-worker otherwise.
	ManagerAuto Manager = ""
	// ManagerSystemd uses the distribution's haproxy unit: systemctl reload,
	// which validates the config and sends SIGUSR2 to the master.
	ManagerSystemd Manager = "systemd"
	// ManagerMasterWorker runs "haproxy -W -D -p PIDFile -f ConfigPath" and
	// reloads by sending SIGUSR2 to the master, which starts new workers on
	// the same listening sockets while the old ones finish their
	// connections. This is what containers without an init system get.
	ManagerMasterWorker Manager = "master-worker"
)

// Service manages HAProxy on one host through a remote.Runner: install it
// where missing, install a validated config, start or reload it.
type Service struct {
	Runner remote.Runner
	// Log receives progress and command output at debug level; nil
	// discards.
	Log *slog.Logger
	// ConfigPath defaults to DefaultConfigPath. With systemd it must be the
	// path the unit reads.
	ConfigPath string
	// PIDFile is the master's PID file under master-worker; defaults to
	// DefaultPIDFile, which is also what Debian's init script uses, so an
	// HAProxy started by the package is found and replaced.
	PIDFile string
	Manager Manager
}

// ValidationError is a config that HAProxy itself refused. Output is
// haproxy -c's own message.
type ValidationError struct {
	Host   string
	Output string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("haproxy on %s: config refused by haproxy -c, nothing installed: %s", e.Host, strings.TrimSpace(e.Output))
}

// pathPrefix makes the sbin directories reachable over SSH sessions whose
// PATH lacks them.
const pathPrefix = `PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; `

func (s *Service) configPath() string {
	if s.ConfigPath != "" {
		return s.ConfigPath
	}
	return DefaultConfigPath
}

func (s *Service) pidFile() string {
	if s.PIDFile != "" {
		return s.PIDFile
	}
	return DefaultPIDFile
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Service) errorf(format string, args ...any) error {
	return fmt.Errorf("haproxy on %s: "+format, append([]any{s.Runner.Host()}, args...)...)
}

var errNoRunner = errors.New("haproxy: Service.Runner is nil")

// restoreTimeout bounds putting the old config back after a failed or
// interrupted reload.
const restoreTimeout = 30 * time.Second

// Inspect compares the host with c and changes nothing. It reports in
// package plan's step contract: plan.Create when HAProxy or its config is
// missing, plan.Update when the installed config differs from the rendered
// one, HAProxy is not running, or nothing records that the running HAProxy
// loaded the installed config (see Apply), plan.NoOp otherwise.
func (s *Service) Inspect(ctx context.Context, c Config) (plan.Change, error) {
	if s.Runner == nil {
		return plan.Change{}, errNoRunner
	}
	want, err := Render(c)
	if err != nil {
		return plan.Change{}, s.errorf("%w", err)
	}
	installed, err := s.installed(ctx)
	if err != nil {
		return plan.Change{}, err
	}
	if !installed {
		return plan.Change{Action: plan.Create, Reason: "install haproxy, write " + s.configPath() + " and start it"}, nil
	}
	have, err := s.Runner.ReadFile(ctx, s.configPath())
	if errors.Is(err, fs.ErrNotExist) {
		return plan.Change{Action: plan.Create, Reason: "write " + s.configPath() + " and start haproxy"}, nil
	}
	if err != nil {
		return plan.Change{}, s.errorf("read config: %w", err)
	}
	running, err := s.Running(ctx)
	if err != nil {
		return plan.Change{}, err
	}
	if !bytes.Equal(have, want) {
		reason := "config differs: " + lineDiff(have, want)
		if !running {
			reason += "; haproxy is not running"
		}
		return plan.Change{Action: plan.Update, Reason: reason}, nil
	}
	if !running {
		return plan.Change{Action: plan.Update, Reason: "config up to date but haproxy is not running"}, nil
	}
	// The file alone does not say what runs: an apply interrupted between
	// moving the file into place and the reload leaves the new file and the
	// old config serving.
	loaded, err := s.Runner.ReadFile(ctx, s.loadedPath())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return plan.Change{Action: plan.Update, Reason: "reload haproxy: " + s.configPath() + " is up to date, but nothing records that haproxy loaded it (an earlier apply stopped before its reload finished)"}, nil
	case err != nil:
		return plan.Change{}, s.errorf("read %s: %w", s.loadedPath(), err)
	case !bytes.Equal(loaded, loadedMark(want)):
		return plan.Change{Action: plan.Update, Reason: "reload haproxy: " + s.configPath() + " is up to date, but haproxy last loaded another config"}, nil
	}
	return plan.Change{Action: plan.NoOp, Reason: "config up to date, loaded by the running haproxy"}, nil
}

// loadedPath records which config the running HAProxy loaded: Apply writes
// loadedMark of the config there only after a successful reload, and
// removes it before it moves a new config into place.
func (s *Service) loadedPath() string { return s.configPath() + ".planetstage-loaded" }

func loadedMark(cfg []byte) []byte {
	return fmt.Appendf(nil, "sha256:%x\n", sha256.Sum256(cfg))
}

// Apply installs HAProxy where missing, then installs c: the rendered
// config goes to a file next to ConfigPath, haproxy -c validates it, and
// only then it replaces the old config and HAProxy reloads (or starts).
// A config HAProxy refuses returns a *ValidationError and changes nothing:
// the old config stays in place and keeps serving. Apply is idempotent.
//
// After a successful reload Apply records a hash of the config next to it
// (ConfigPath + ".planetstage-loaded"), and it removes that record before
// it moves a new config into place. An Apply interrupted anywhere in
// between (cancelled, killed, the connection lost) so leaves no record, and
// the next Inspect reports an update instead of trusting a file that the
// running HAProxy may not have loaded. A reload that fails puts the old
// config back even when ctx is what stopped it.
func (s *Service) Apply(ctx context.Context, c Config) error {
	if s.Runner == nil {
		return errNoRunner
	}
	want, err := Render(c)
	if err != nil {
		return s.errorf("%w", err)
	}
	if err := s.install(ctx); err != nil {
		return err
	}
	cfgPath := s.configPath()
	candidate := cfgPath + ".planetstage-new"
	backup := cfgPath + ".planetstage-old"
	if err := s.Runner.WriteFile(ctx, candidate, want, 0o644); err != nil {
		return s.errorf("write candidate config: %w", err)
	}
	out, err := remote.CombinedOutput(ctx, s.Runner, pathPrefix+"haproxy -c -f "+remote.ShellQuote(candidate))
	s.log().Debug("haproxy -c", "host", s.Runner.Host(), "output", out)
	if err != nil {
		_ = s.Runner.Run(ctx, remote.Cmd{Command: "rm -f " + remote.ShellQuote(candidate)})
		var exit *remote.ExitError
		if errors.As(err, &exit) {
			return &ValidationError{Host: s.Runner.Host(), Output: out}
		}
		return s.errorf("validate: %w", err)
	}
	// haproxy -c does not check that the admin socket's directory exists;
	// under /run it is gone after a reboot of a host without systemd.
	if sock := c.Global.StatsSocket; sock != "" {
		if _, err := remote.CombinedOutput(ctx, s.Runner, "mkdir -p "+remote.ShellQuote(path.Dir(sock))); err != nil {
			return s.errorf("create stats socket directory: %w", err)
		}
	}
	// Keep the old config until the reload succeeded, so a reload that
	// fails for a reason -c cannot see (a port in use) is rolled back. The
	// record of what HAProxy loaded goes first: from here until the reload
	// is done, nothing may claim that the file in place is what runs.
	swap := fmt.Sprintf("rm -f %[4]s && if [ -e %[1]s ]; then cp -p %[1]s %[2]s; else rm -f %[2]s; fi && mv -f %[3]s %[1]s",
		remote.ShellQuote(cfgPath), remote.ShellQuote(backup), remote.ShellQuote(candidate), remote.ShellQuote(s.loadedPath()))
	if _, err := remote.CombinedOutput(ctx, s.Runner, swap); err != nil {
		return s.errorf("install config: %w", err)
	}
	if err := s.reload(ctx); err != nil {
		// ctx may be what stopped the reload; the old config still goes
		// back, under a context of its own.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restoreTimeout)
		defer cancel()
		restore := fmt.Sprintf("if [ -e %[2]s ]; then mv -f %[2]s %[1]s; fi", remote.ShellQuote(cfgPath), remote.ShellQuote(backup))
		if _, rerr := remote.CombinedOutput(rctx, s.Runner, restore); rerr != nil {
			return errors.Join(err, s.errorf("restore old config: %w", rerr))
		}
		return err
	}
	if err := s.Runner.WriteFile(ctx, s.loadedPath(), loadedMark(want), 0o644); err != nil {
		return s.errorf("record the loaded config (the next apply reloads again): %w", err)
	}
	_ = s.Runner.Run(ctx, remote.Cmd{Command: "rm -f " + remote.ShellQuote(backup)})
	s.log().Info("haproxy config installed", "host", s.Runner.Host(), "path", cfgPath)
	return nil
}

// Running reports whether HAProxy runs: the unit is active under systemd,
// the process in PIDFile is alive under master-worker.
func (s *Service) Running(ctx context.Context) (bool, error) {
	if s.Runner == nil {
		return false, errNoRunner
	}
	m, err := s.manager(ctx)
	if err != nil {
		return false, err
	}
	cmd := s.pidAlive()
	if m == ManagerSystemd {
		cmd = "systemctl is-active --quiet haproxy"
	}
	return s.test(ctx, cmd)
}

// Stop stops HAProxy and waits for its master to exit. Under
// master-worker it signals only the process named in PIDFile.
func (s *Service) Stop(ctx context.Context) error {
	if s.Runner == nil {
		return errNoRunner
	}
	m, err := s.manager(ctx)
	if err != nil {
		return err
	}
	cmd := "systemctl stop haproxy"
	if m == ManagerMasterWorker {
		pf := remote.ShellQuote(s.pidFile())
		cmd = `pid=$(head -n1 ` + pf + ` 2>/dev/null)
if ! { ` + isHAProxy + `; }; then rm -f ` + pf + `; exit 0; fi
kill "$pid"
end=$(( $(date +%s) + 10 ))
while ` + isHAProxy + `; do
  [ "$(date +%s)" -le "$end" ] || { echo "haproxy $pid did not exit within 10s of SIGTERM" >&2; exit 1; }
  sleep 0.05
done
# The master can exit a moment before workers of earlier reloads do; Stop
# means no process of this config is left, so wait for those too.
cfg=` + remote.ShellQuote(s.configPath()) + `
workers() {
  for d in /proc/[0-9]*; do
    [ "$(cat "$d/comm" 2>/dev/null)" = haproxy ] || continue
    [ "$(sed -n 's/^.*) \(.\).*/\1/p' "$d/stat" 2>/dev/null)" != Z ] || continue
    tr '\0' '\n' < "$d/cmdline" 2>/dev/null | grep -qxF -- "$cfg" && echo "${d#/proc/}"
  done
}
while [ -n "$(workers)" ]; do
  [ "$(date +%s)" -le "$end" ] || { kill -9 $(workers) 2>/dev/null; break; }
  sleep 0.05
done
rm -f ` + pf
	}
	if out, err := remote.CombinedOutput(ctx, s.Runner, cmd); err != nil {
		return s.errorf("stop: %w (%s)", err, strings.TrimSpace(out))
	}
	return nil
}

// InspectRemove reports what Remove would do: plan.Delete while a config
// this package rendered is installed, plan.NoOp otherwise (a config
// someone else wrote is not ours to remove).
func (s *Service) InspectRemove(ctx context.Context) (plan.Change, error) {
	if s.Runner == nil {
		return plan.Change{}, errNoRunner
	}
	have, err := s.Runner.ReadFile(ctx, s.configPath())
	if errors.Is(err, fs.ErrNotExist) {
		return plan.Change{Action: plan.NoOp, Reason: "no " + s.configPath()}, nil
	}
	if err != nil {
		return plan.Change{}, s.errorf("read config: %w", err)
	}
	if !bytes.HasPrefix(have, []byte(header)) {
		return plan.Change{Action: plan.NoOp, Reason: s.configPath() + " was not written by planetstage; left alone"}, nil
	}
	return plan.Change{Action: plan.Delete, Reason: "stop haproxy and remove " + s.configPath()}, nil
}

// Remove stops HAProxy and removes the config. The haproxy package stays
// installed: other software may depend on it, and a re-apply is faster.
func (s *Service) Remove(ctx context.Context) error {
	if s.Runner == nil {
		return errNoRunner
	}
	if err := s.Stop(ctx); err != nil {
		return err
	}
	if _, err := remote.CombinedOutput(ctx, s.Runner, "rm -f "+remote.ShellQuote(s.configPath())+" "+remote.ShellQuote(s.loadedPath())); err != nil {
		return s.errorf("remove config: %w", err)
	}
	return nil
}

// install installs HAProxy with apt where the binary is missing.
func (s *Service) install(ctx context.Context) error {
	ok, err := s.installed(ctx)
	if err != nil || ok {
		return err
	}
	s.log().Info("installing haproxy", "host", s.Runner.Host())
	const script = `if ! command -v apt-get >/dev/null 2>&1; then
  echo "haproxy is missing and this host has no apt-get (only Debian and Ubuntu are supported): install haproxy yourself" >&2; exit 3
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends haproxy || { apt-get update && apt-get install -y --no-install-recommends haproxy; }`
	out, err := remote.CombinedOutput(ctx, s.Runner, script)
	s.log().Debug("apt-get install haproxy", "host", s.Runner.Host(), "output", out)
	if err != nil {
		return s.errorf("install: %w", err)
	}
	return nil
}

func (s *Service) installed(ctx context.Context) (bool, error) {
	return s.test(ctx, pathPrefix+"command -v haproxy >/dev/null")
}

// test runs a command whose exit status is the answer.
func (s *Service) test(ctx context.Context, cmd string) (bool, error) {
	err := s.Runner.Run(ctx, remote.Cmd{Command: cmd})
	var exit *remote.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit):
		return false, nil
	default:
		return false, s.errorf("%w", err)
	}
}

func (s *Service) manager(ctx context.Context) (Manager, error) {
	switch s.Manager {
	case ManagerSystemd, ManagerMasterWorker:
		return s.Manager, nil
	case ManagerAuto:
	default:
		return "", s.errorf("manager %q: want systemd, master-worker or empty for auto", s.Manager)
	}
	systemd, err := s.test(ctx, "test -d /run/systemd/system && command -v systemctl >/dev/null")
	if err != nil {
		return "", err
	}
	if systemd {
		return ManagerSystemd, nil
	}
	return ManagerMasterWorker, nil
}

func (s *Service) pidAlive() string {
	return `pid=$(head -n1 ` + remote.ShellQuote(s.pidFile()) + ` 2>/dev/null); ` + isHAProxy
}

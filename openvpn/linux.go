package openvpn

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/tunnel"
)

// Default locations on a Linux router.
const (
	DefaultDir        = "/etc/planetstage/openvpn"
	DefaultRunDir     = "/run/planetstage/openvpn"
	DefaultSysctlFile = "/etc/sysctl.d/90-planetstage-forwarding.conf"
)

// Linux configures one site's router when it is a plain Linux host with
// openvpn and iproute2. It runs no service manager: each tunnel is an
// "openvpn --daemon" process whose pid file it checks, so it works in
// containers without systemd as well as on real machines.
type Linux struct {
	Model *Model
	Keys  *Keys
	Site  string
	// Dir holds configs and keys (DefaultDir when empty); RunDir pid files,
	// logs and status files (DefaultRunDir when empty).
	Dir, RunDir string
	// SysctlFile makes IP forwarding survive a reboot (DefaultSysctlFile
	// when empty; "-" to write none).
	SysctlFile string
	// BootScript is where the boot script goes (DefaultBootScript when
	// empty; "-" to write none). It restarts the tunnels and routes after a
	// reboot; see BootScriptData.
	BootScript string
	Log        *slog.Logger // nil discards
}

// Drift is what Inspect found: Reasons lists what Apply would change, in
// human words. Installed is false when none of the router's tunnels exist.
type Drift struct {
	Installed bool
	Reasons   []string
	// Stale are tunnel interfaces planetstage started on this router that
	// the model no longer has; Apply stops them and removes their devices.
	Stale []string
}

// InSync reports whether Apply would change nothing.
func (d Drift) InSync() bool { return len(d.Reasons) == 0 }

func (l *Linux) dir() string    { return or(l.Dir, DefaultDir) }
func (l *Linux) runDir() string { return or(l.RunDir, DefaultRunDir) }
func (l *Linux) log() *slog.Logger {
	if l.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.Log
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// tunnelState is what Inspect learns about one tunnel.
type tunnelState struct {
	tunnel  tunnel.Tunnel
	changed []string // files that are missing or differ
	running bool
	// unproven: the daemon runs, but no record says it was started with
	// the files now in place (an apply stopped between writing them and
	// restarting it).
	unproven bool
	loaded   []byte // what to record once it runs the files in place
}

// observe reads the router's state. It changes nothing.
// write holds the paths of files that are missing, differ or lack their
// executable bit: what Apply writes.
func (l *Linux) observe(ctx context.Context, r remote.Runner) (files []File, tunnels []tunnelState, drift Drift, write map[string]bool, err error) {
	files, err = l.Files()
	if err != nil {
		return nil, nil, Drift{}, nil, err
	}
	tunnelsHere := l.Model.TunnelsOf(l.Site)
	var paths, execs []string
	for _, f := range files {
		paths = append(paths, f.Path)
		if f.Exec {
			execs = append(execs, f.Path)
		}
	}
	for _, t := range tunnelsHere {
		paths = append(paths, loadedPath(l.runDir(), Interface(t.Index)))
	}
	lk, err := l.look(ctx, r, paths, execs, tunnelsHere)
	if err != nil {
		return nil, nil, Drift{}, nil, err
	}
	differs := map[string]bool{} // paths to write
	for _, f := range files {
		// A boot script that is not executable would not run.
		differs[f.Path] = !lk.sums.Holds(f.Path, f.Data) || (f.Exec && !lk.exec[f.Path])
	}
	for _, t := range tunnelsHere {
		st := tunnelState{tunnel: t}
		iface := Interface(t.Index)
		for _, p := range tunnelPaths(l.dir(), iface) {
			if differs[p] {
				st.changed = append(st.changed, p)
			}
		}
		st.running = lk.running[iface]
		st.loaded = loadedMark(files, tunnelPaths(l.dir(), iface))
		if st.running && len(st.changed) == 0 {
			st.unproven = !lk.sums.Holds(loadedPath(l.runDir(), iface), st.loaded)
		}
		drift.Installed = drift.Installed || st.running || len(st.changed) == 0
		switch {
		case !st.running:
			drift.Reasons = append(drift.Reasons, fmt.Sprintf("start openvpn %s to %s", iface, peerOf(t, l.Site)))
		case len(st.changed) > 0:
			drift.Reasons = append(drift.Reasons, fmt.Sprintf("restart openvpn %s: %s changed", iface, strings.Join(st.changed, ", ")))
		case st.unproven:
			drift.Reasons = append(drift.Reasons, fmt.Sprintf("restart openvpn %s: nothing records that it runs the files in place (an earlier apply stopped before restarting it)", iface))
		}
		tunnels = append(tunnels, st)
	}
	for _, f := range files {
		if differs[f.Path] {
			drift.Reasons = append(drift.Reasons, "write "+f.Path)
		}
	}
	drift.Stale = l.staleOf(lk.pids)
	for _, iface := range drift.Stale {
		drift.Reasons = append(drift.Reasons, fmt.Sprintf("stop openvpn %s: no longer in the topology", iface))
	}
	if lk.forward != "1" {
		drift.Reasons = append(drift.Reasons, "enable IPv4 forwarding")
	}
	for _, rt := range l.Model.Routes(l.Site) {
		if !routeMatches(lk.route(rt.Prefix.String()), rt) {
			drift.Reasons = append(drift.Reasons, fmt.Sprintf("route %s via %s dev %s (to %s)", rt.Prefix, rt.Via, Interface(rt.Tunnel), rt.Site))
		}
	}
	return files, tunnels, drift, differs, nil
}

func peerOf(t tunnel.Tunnel, site string) string {
	_, peer, _ := t.Local(site)
	return peer.Router
}

// routeMatches reports whether "ip route show exact" output is rt.
func routeMatches(out string, rt tunnel.Route) bool {
	f := strings.Fields(out)
	if len(f) < 5 || f[0] != rt.Prefix.String() {
		return false
	}
	return strings.Contains(" "+out+" ", " via "+rt.Via.String()+" dev "+Interface(rt.Tunnel)+" ")
}

// stale lists the interfaces with a pid file in the run directory that the
// model does not have at this site.
func (l *Linux) stale(ctx context.Context, r remote.Runner) ([]string, error) {
	out, err := remote.Output(ctx, r, fmt.Sprintf("cd %s 2>/dev/null && ls -1 -- *.pid 2>/dev/null || true", remote.ShellQuote(l.runDir())))
	if err != nil {
		return nil, fmt.Errorf("router %q: list pid files: %w", r.Host(), err)
	}
	return l.staleOf(strings.Fields(out)), nil
}

// staleOf lists the interfaces of pidFiles (names in the run directory)
// that the model does not have at this site.
func (l *Linux) staleOf(pidFiles []string) []string {
	want := map[string]bool{}
	for _, t := range l.Model.TunnelsOf(l.Site) {
		want[Interface(t.Index)] = true
	}
	var stale []string
	for _, f := range pidFiles {
		iface := strings.TrimSuffix(f, ".pid")
		if vtunPattern(iface) && !want[iface] {
			stale = append(stale, iface)
		}
	}
	return stale
}

// vtunPattern reports whether s is an interface name this package makes.
func vtunPattern(s string) bool {
	if !strings.HasPrefix(s, "vtun") || len(s) == 4 {
		return false
	}
	for _, c := range s[4:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// stop ends a stale tunnel: its daemon (only if it runs our config), its
// device and with it its routes, and its files.
func (l *Linux) stop(ctx context.Context, r remote.Runner, iface string) error {
	pid := remote.ShellQuote(pidPath(l.runDir(), iface))
	conf := remote.ShellQuote(ConfigPath(l.dir(), iface))
	cmd := fmt.Sprintf(`p=$(cat %[1]s 2>/dev/null); if [ -n "$p" ] && tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | grep -qF -- %[2]s; then kill "$p"; for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; fi; `+
		`ip link del dev %[3]s 2>/dev/null; rm -f %[1]s %[2]s %[4]s %[5]s %[6]s %[7]s`,
		pid, conf, remote.ShellQuote(iface), remote.ShellQuote(staticPath(l.dir(), iface)),
		remote.ShellQuote(logPath(l.runDir(), iface)), remote.ShellQuote(statusPath(l.runDir(), iface)),
		remote.ShellQuote(loadedPath(l.runDir(), iface)))
	if _, err := remote.CombinedOutput(ctx, r, cmd); err != nil {
		return fmt.Errorf("router %q: stop stale tunnel %s: %w", r.Host(), iface, err)
	}
	return nil
}

// running reports whether t's openvpn runs with t's config.
func (l *Linux) running(ctx context.Context, r remote.Runner, t tunnel.Tunnel) (bool, error) {
	out, err := remote.Output(ctx, r, "{ "+l.runningCmd(t)+"; } || true")
	if err != nil {
		return false, fmt.Errorf("router %q: check openvpn %s: %w", r.Host(), Interface(t.Index), err)
	}
	return strings.TrimSpace(out) == "running", nil
}

// Inspect reports what Apply would change. It changes nothing.
func (l *Linux) Inspect(ctx context.Context, r remote.Runner) (Drift, error) {
	_, _, d, _, err := l.observe(ctx, r)
	return d, err
}

// Apply brings the router to the model: files, forwarding, tun devices,
// openvpn daemons (restarted only when their files changed) and routes. It is
// idempotent; a run that failed midway is repaired by the next.
func (l *Linux) Apply(ctx context.Context, r remote.Runner) error {
	files, tunnels, drift, write, err := l.observe(ctx, r)
	if err != nil {
		return err
	}
	if drift.InSync() {
		return nil
	}
	host := r.Host()
	for _, f := range files {
		if !write[f.Path] {
			continue
		}
		if err := r.WriteFile(ctx, f.Path, f.Data, fs.FileMode(f.Mode())); err != nil {
			return fmt.Errorf("router %q: %w", host, err)
		}
		l.log().Debug("wrote file", "host", host, "path", f.Path)
	}
	if l.SysctlFile != "-" {
		if err := r.WriteFile(ctx, or(l.SysctlFile, DefaultSysctlFile), []byte("net.ipv4.ip_forward = 1\n"), 0o644); err != nil {
			return fmt.Errorf("router %q: %w", host, err)
		}
	}
	if _, err := remote.CombinedOutput(ctx, r, forwardCmd); err != nil {
		return fmt.Errorf("router %q: enable forwarding: %w", host, err)
	}
	for _, iface := range drift.Stale {
		if err := l.stop(ctx, r, iface); err != nil {
			return err
		}
	}
	for _, st := range tunnels {
		if err := l.ensureDaemon(ctx, r, st); err != nil {
			return err
		}
	}
	for _, rt := range l.Model.Routes(l.Site) {
		if _, err := remote.CombinedOutput(ctx, r, routeCmd(rt)); err != nil {
			return fmt.Errorf("router %q: route to %s: %w", host, rt.Site, err)
		}
	}
	l.log().Info("router configured", "host", host, "site", l.Site, "changes", len(drift.Reasons))
	return nil
}

// ensureDaemon creates t's tun device and (re)starts its openvpn when it is
// not running or its files changed.
func (l *Linux) ensureDaemon(ctx context.Context, r remote.Runner, st tunnelState) error {
	t, host := st.tunnel, r.Host()
	iface := Interface(t.Index)
	if _, err := remote.CombinedOutput(ctx, r, deviceCmd(iface)); err != nil {
		return fmt.Errorf("router %q: tunnel %s: create device: %w", host, iface, err)
	}
	if st.running && len(st.changed) == 0 && !st.unproven {
		return nil
	}
	pid := remote.ShellQuote(pidPath(l.runDir(), iface))
	if st.running {
		stop := fmt.Sprintf(`p=$(cat %s); kill "$p"; for i in $(seq 50); do kill -0 "$p" 2>/dev/null || exit 0; sleep 0.1; done; kill -9 "$p"`, pid)
		if _, err := remote.CombinedOutput(ctx, r, stop); err != nil {
			return fmt.Errorf("router %q: tunnel %s: stop openvpn: %w", host, iface, err)
		}
	}
	if _, err := remote.CombinedOutput(ctx, r, l.startCmd(t)); err != nil {
		return fmt.Errorf("router %q: tunnel %s: start openvpn (log: %s): %w", host, iface, logPath(l.runDir(), iface), err)
	}
	// The daemon writes its pid after forking; a config error makes it exit
	// right away, which the caller must hear about now.
	for deadline := time.Now().Add(5 * time.Second); ; {
		ok, err := l.running(ctx, r, t)
		if err != nil {
			return err
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("router %q: tunnel %s: openvpn is not running after start; see %s", host, iface, logPath(l.runDir(), iface))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Only now, with the daemon running on the files in place, may the
	// next Inspect trust them.
	if err := r.WriteFile(ctx, loadedPath(l.runDir(), iface), st.loaded, 0o644); err != nil {
		return fmt.Errorf("router %q: tunnel %s: record the started config (the next apply restarts it again): %w", host, iface, err)
	}
	l.log().Debug("openvpn started", "host", host, "tunnel", iface)
	return nil
}

// tunnelPaths are the files iface's daemon reads at start: restarting it
// is how a change to any of them takes effect.
func tunnelPaths(dir, iface string) []string {
	return []string{ConfigPath(dir, iface), staticPath(dir, iface), certPath(dir), keyPath(dir)}
}

// loadedMark is the record of a daemon started on files: a SHA-256 over
// the paths and contents of those of paths that files has. It is kept
// next to the daemon's pid file (loadedPath), written once the daemon
// runs and removed before it is started, so that a daemon left running on
// older files by an interrupted apply is not taken for in sync. It holds
// no key material.
func loadedMark(files []File, paths []string) []byte {
	h := sha256.New()
	for _, p := range paths {
		for _, f := range files {
			if f.Path == p {
				fmt.Fprintf(h, "%s\x00%d\x00", p, len(f.Data))
				h.Write(f.Data)
			}
		}
	}
	return fmt.Appendf(nil, "sha256:%x\n", h.Sum(nil))
}

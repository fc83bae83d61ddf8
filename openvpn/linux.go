package openvpn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/planetstage/planetstage/remote"
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
	tunnel  Tunnel
	changed []string // files that are missing or differ
	running bool
}

// observe reads the router's state. It changes nothing.
func (l *Linux) observe(ctx context.Context, r remote.Runner) (files []File, tunnels []tunnelState, drift Drift, err error) {
	files, err = RouterFiles(l.Model, l.Keys, l.Site, l.dir())
	if err != nil {
		return nil, nil, Drift{}, err
	}
	differs := map[string]bool{}
	for _, f := range files {
		have, err := r.ReadFile(ctx, f.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			differs[f.Path] = true
		case err != nil:
			return nil, nil, Drift{}, fmt.Errorf("router %q: %w", r.Host(), err)
		case !bytes.Equal(have, f.Data):
			differs[f.Path] = true
		}
	}
	for _, t := range l.Model.TunnelsOf(l.Site) {
		st := tunnelState{tunnel: t}
		for _, p := range []string{ConfigPath(l.dir(), t.Interface), staticPath(l.dir(), t.Interface), certPath(l.dir()), keyPath(l.dir())} {
			if differs[p] {
				st.changed = append(st.changed, p)
			}
		}
		if st.running, err = l.running(ctx, r, t); err != nil {
			return nil, nil, Drift{}, err
		}
		drift.Installed = drift.Installed || st.running || len(st.changed) == 0
		switch {
		case !st.running:
			drift.Reasons = append(drift.Reasons, fmt.Sprintf("start openvpn %s to %s", t.Interface, peerOf(t, l.Site)))
		case len(st.changed) > 0:
			drift.Reasons = append(drift.Reasons, fmt.Sprintf("restart openvpn %s: %s changed", t.Interface, strings.Join(st.changed, ", ")))
		}
		tunnels = append(tunnels, st)
	}
	for _, f := range files {
		if differs[f.Path] {
			drift.Reasons = append(drift.Reasons, "write "+f.Path)
		}
	}
	if drift.Stale, err = l.stale(ctx, r); err != nil {
		return nil, nil, Drift{}, err
	}
	for _, iface := range drift.Stale {
		drift.Reasons = append(drift.Reasons, fmt.Sprintf("stop openvpn %s: no longer in the topology", iface))
	}
	fwd, err := remote.Output(ctx, r, "cat /proc/sys/net/ipv4/ip_forward")
	if err != nil {
		return nil, nil, Drift{}, fmt.Errorf("router %q: read ip_forward: %w", r.Host(), err)
	}
	if strings.TrimSpace(fwd) != "1" {
		drift.Reasons = append(drift.Reasons, "enable IPv4 forwarding")
	}
	for _, rt := range l.Model.Routes(l.Site) {
		out, err := remote.Output(ctx, r, "ip -4 route show exact "+rt.Prefix.String())
		if err != nil {
			return nil, nil, Drift{}, fmt.Errorf("router %q: read route %s: %w", r.Host(), rt.Prefix, err)
		}
		if !routeMatches(out, rt) {
			drift.Reasons = append(drift.Reasons, fmt.Sprintf("route %s via %s dev %s (to %s)", rt.Prefix, rt.Via, rt.Interface, rt.Site))
		}
	}
	return files, tunnels, drift, nil
}

func peerOf(t Tunnel, site string) string {
	_, peer, _ := t.Local(site)
	return peer.Router
}

// routeMatches reports whether "ip route show exact" output is rt.
func routeMatches(out string, rt Route) bool {
	f := strings.Fields(out)
	if len(f) < 5 || f[0] != rt.Prefix.String() {
		return false
	}
	return strings.Contains(" "+out+" ", " via "+rt.Via.String()+" dev "+rt.Interface+" ")
}

// stale lists the interfaces with a pid file in the run directory that the
// model does not have at this site.
func (l *Linux) stale(ctx context.Context, r remote.Runner) ([]string, error) {
	out, err := remote.Output(ctx, r, fmt.Sprintf("cd %s 2>/dev/null && ls -1 -- *.pid 2>/dev/null || true", remote.ShellQuote(l.runDir())))
	if err != nil {
		return nil, fmt.Errorf("router %q: list pid files: %w", r.Host(), err)
	}
	want := map[string]bool{}
	for _, t := range l.Model.TunnelsOf(l.Site) {
		want[t.Interface] = true
	}
	var stale []string
	for _, f := range strings.Fields(out) {
		iface := strings.TrimSuffix(f, ".pid")
		if vtunPattern(iface) && !want[iface] {
			stale = append(stale, iface)
		}
	}
	return stale, nil
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
		`ip link del dev %[3]s 2>/dev/null; rm -f %[1]s %[2]s %[4]s %[5]s %[6]s`,
		pid, conf, remote.ShellQuote(iface), remote.ShellQuote(staticPath(l.dir(), iface)),
		remote.ShellQuote(logPath(l.runDir(), iface)), remote.ShellQuote(statusPath(l.runDir(), iface)))
	if _, err := remote.CombinedOutput(ctx, r, cmd); err != nil {
		return fmt.Errorf("router %q: stop stale tunnel %s: %w", r.Host(), iface, err)
	}
	return nil
}

// running reports whether t's openvpn runs with t's config.
func (l *Linux) running(ctx context.Context, r remote.Runner, t Tunnel) (bool, error) {
	// "kill -0" is not enough: after a reboot the pid may belong to another
	// process, so the command line must name our config.
	cmd := fmt.Sprintf(`pid=$(cat %s 2>/dev/null) && [ -n "$pid" ] && tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null | grep -qF -- %s && echo running || true`,
		remote.ShellQuote(pidPath(l.runDir(), t.Interface)), remote.ShellQuote(ConfigPath(l.dir(), t.Interface)))
	out, err := remote.Output(ctx, r, cmd)
	if err != nil {
		return false, fmt.Errorf("router %q: check openvpn %s: %w", r.Host(), t.Interface, err)
	}
	return strings.TrimSpace(out) == "running", nil
}

// Inspect reports what Apply would change. It changes nothing.
func (l *Linux) Inspect(ctx context.Context, r remote.Runner) (Drift, error) {
	_, _, d, err := l.observe(ctx, r)
	return d, err
}

// Apply brings the router to the model: files, forwarding, tun devices,
// openvpn daemons (restarted only when their files changed) and routes. It is
// idempotent; a run that failed midway is repaired by the next.
func (l *Linux) Apply(ctx context.Context, r remote.Runner) error {
	files, tunnels, drift, err := l.observe(ctx, r)
	if err != nil {
		return err
	}
	if drift.InSync() {
		return nil
	}
	host := r.Host()
	for _, f := range files {
		have, err := r.ReadFile(ctx, f.Path)
		if err == nil && bytes.Equal(have, f.Data) {
			continue
		}
		if err := r.WriteFile(ctx, f.Path, f.Data, fs.FileMode(f.Mode())); err != nil {
			return fmt.Errorf("router %q: %w", host, err)
		}
		l.log().Debug("wrote file", "host", host, "path", f.Path)
	}
	// Containers usually have a read-only /proc/sys (docker run --sysctl
	// net.ipv4.ip_forward=1 sets it instead), so write only when needed.
	fwd := `[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || sysctl -q -w net.ipv4.ip_forward=1`
	if l.SysctlFile != "-" {
		if err := r.WriteFile(ctx, or(l.SysctlFile, DefaultSysctlFile), []byte("net.ipv4.ip_forward = 1\n"), 0o644); err != nil {
			return fmt.Errorf("router %q: %w", host, err)
		}
	}
	if _, err := remote.CombinedOutput(ctx, r, fwd); err != nil {
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
		cmd := fmt.Sprintf("ip route replace %s via %s dev %s onlink", rt.Prefix, rt.Via, rt.Interface)
		if _, err := remote.CombinedOutput(ctx, r, cmd); err != nil {
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
	dev := remote.ShellQuote(t.Interface)
	// A persistent device lets routes be installed before the peer answers,
	// and keeps them while openvpn restarts.
	mk := fmt.Sprintf("ip link show dev %[1]s >/dev/null 2>&1 || ip tuntap add dev %[1]s mode tun; ip link set dev %[1]s up", dev)
	if _, err := remote.CombinedOutput(ctx, r, mk); err != nil {
		return fmt.Errorf("router %q: tunnel %s: create device: %w", host, t.Interface, err)
	}
	if st.running && len(st.changed) == 0 {
		return nil
	}
	pid := remote.ShellQuote(pidPath(l.runDir(), t.Interface))
	if st.running {
		stop := fmt.Sprintf(`p=$(cat %s); kill "$p"; for i in $(seq 50); do kill -0 "$p" 2>/dev/null || exit 0; sleep 0.1; done; kill -9 "$p"`, pid)
		if _, err := remote.CombinedOutput(ctx, r, stop); err != nil {
			return fmt.Errorf("router %q: tunnel %s: stop openvpn: %w", host, t.Interface, err)
		}
	}
	start := fmt.Sprintf("mkdir -p %s && rm -f %s && ip addr flush dev %s && "+
		"openvpn --daemon %s --config %s --writepid %s --log-append %s --status %s 30",
		remote.ShellQuote(l.runDir()), pid, dev,
		remote.ShellQuote("planetstage-"+t.Interface), remote.ShellQuote(ConfigPath(l.dir(), t.Interface)), pid,
		remote.ShellQuote(logPath(l.runDir(), t.Interface)), remote.ShellQuote(statusPath(l.runDir(), t.Interface)))
	if _, err := remote.CombinedOutput(ctx, r, start); err != nil {
		return fmt.Errorf("router %q: tunnel %s: start openvpn (log: %s): %w", host, t.Interface, logPath(l.runDir(), t.Interface), err)
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
			return fmt.Errorf("router %q: tunnel %s: openvpn is not running after start; see %s", host, t.Interface, logPath(l.runDir(), t.Interface))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	l.log().Debug("openvpn started", "host", host, "tunnel", t.Interface)
	return nil
}

package wireguard

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/tunnel"
)

// Default locations on a Linux router.
const (
	DefaultDir        = "/etc/planetstage/wireguard"
	DefaultRunDir     = "/run/planetstage/wireguard"
	DefaultSysctlFile = "/etc/sysctl.d/90-planetstage-wireguard.conf"
	// DefaultBootScript is where Linux writes its boot script; see
	// package openvpn's DefaultBootScript for who runs it.
	DefaultBootScript = "/etc/planetstage/boot.d/50-wireguard"
)

// Implementation says what carries a router's WireGuard tunnels.
type Implementation string

const (
	// Kernel is the kernel's WireGuard module ("ip link add type
	// wireguard").
	Kernel Implementation = "kernel"
	// Userspace is wireguard-go on /dev/net/tun, for a kernel without the
	// module.
	Userspace Implementation = "wireguard-go"
	// Unavailable means neither: the kernel has no module and
	// wireguard-go is not installed.
	Unavailable Implementation = "none"
)

// Note is how messages name impl: what runs, and why.
func (impl Implementation) Note() string {
	switch impl {
	case Kernel:
		return "kernel WireGuard"
	case Userspace:
		return "wireguard-go: this kernel has no WireGuard module"
	}
	return "no WireGuard: this kernel has no WireGuard module and wireguard-go is not installed (apt-get install wireguard-go wireguard-tools)"
}

// Linux configures one site's router when it is a plain Linux host with
// iproute2 and wireguard-tools: each tunnel is an interface "wg<i>" made
// by the kernel where it has WireGuard, else by wireguard-go, configured
// with "wg setconf", its transit address and routes set with ip(8). It
// runs no service manager, so it works in containers as on real machines.
type Linux struct {
	Model *Model
	Keys  *Keys
	Site  string
	// Dir holds the tunnels' configurations (DefaultDir when empty);
	// RunDir wireguard-go's logs (DefaultRunDir when empty).
	Dir, RunDir string
	// SysctlFile makes IP forwarding survive a reboot (DefaultSysctlFile
	// when empty; "-" to write none).
	SysctlFile string
	// BootScript is where the boot script goes (DefaultBootScript when
	// empty; "-" to write none).
	BootScript string
	Log        *slog.Logger // nil discards
}

// Drift is what Inspect found: Reasons lists what Apply would change, in
// human words. Installed is false while none of the router's tunnels
// exist.
type Drift struct {
	Installed bool
	Reasons   []string
	// Stale are tunnel interfaces planetstage made on this router that the
	// model no longer has; Apply removes them.
	Stale []string
	// Implementation is what carries (or would carry) the tunnels.
	Implementation Implementation
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

// tunnelState is what Inspect learns about one tunnel's interface.
type tunnelState struct {
	tunnel  tunnel.Tunnel
	exists  bool
	differs []string // WireGuard settings that are not as planned
	address bool     // the transit address is set
	up      bool
}

func (st tunnelState) inSync() bool { return st.exists && len(st.differs) == 0 && st.address && st.up }

// probeCmd prints what can carry WireGuard here, changing nothing: the
// kernel's module if it is loaded or can be (modprobe's dry run), else
// wireguard-go. Creating an interface decides in the end (upCmd tries
// the kernel first), so a module that cannot be loaded after all still
// gets wireguard-go.
const probeCmd = `if [ -d /sys/module/wireguard ] || modprobe -n -q wireguard 2>/dev/null; then echo kernel; ` +
	`elif command -v wireguard-go >/dev/null && command -v wg >/dev/null; then echo wireguard-go; else echo none; fi`

// Probe reports what would carry WireGuard tunnels on r.
func Probe(ctx context.Context, r remote.Runner) (Implementation, error) {
	out, err := remote.Output(ctx, r, probeCmd)
	if err != nil {
		return "", fmt.Errorf("router %q: look for WireGuard: %w", r.Host(), err)
	}
	return Implementation(strings.TrimSpace(out)), nil
}

// observe reads the router's state. It changes nothing. write holds the
// paths of files that are missing, differ or lack their executable bit:
// what Apply writes.
func (l *Linux) observe(ctx context.Context, r remote.Runner) (files []File, tunnels []tunnelState, drift Drift, write map[string]bool, err error) {
	if files, err = l.Files(); err != nil {
		return nil, nil, Drift{}, nil, err
	}
	// One round trip for everything (remote.Batch): a hub has many
	// tunnels, and at planetary distances each command costs a round trip.
	var paths, execs []string
	for _, f := range files {
		paths = append(paths, f.Path)
		if f.Exec {
			execs = append(execs, f.Path)
		}
	}
	queries := []remote.Query{
		{Name: "probe", Command: probeCmd},
		{Name: "sums", Command: remote.SumFilesCommand(paths)},
		{Name: "exec", Command: remote.ExecutableCommand(execs)},
		{Name: "confs", Command: l.staleCmd()},
		{Name: "forward", Command: "cat /proc/sys/net/ipv4/ip_forward"},
		{Name: "routes", Command: "ip -4 route show"},
	}
	here := l.Model.TunnelsOf(l.Site)
	for _, t := range here {
		queries = append(queries, remote.Query{Name: Interface(t.Index), Command: tunnelCmd(t)})
	}
	a, err := remote.Batch(ctx, r, queries)
	if err != nil {
		return nil, nil, Drift{}, nil, fmt.Errorf("router %q: read the tunnels' state: %w", r.Host(), err)
	}
	sums, err := remote.ParseSums(a["sums"])
	if err != nil {
		return nil, nil, Drift{}, nil, fmt.Errorf("router %q: %w", r.Host(), err)
	}
	drift.Implementation = Implementation(strings.TrimSpace(a["probe"]))
	for _, t := range here {
		st := l.parseTunnel(t, a[Interface(t.Index)])
		iface := Interface(t.Index)
		drift.Installed = drift.Installed || st.exists
		local, peer, _ := t.Local(l.Site)
		switch {
		case !st.exists:
			drift.Reasons = append(drift.Reasons, fmt.Sprintf("create %s to %s (%s)", iface, peer.Router, drift.Implementation.Note()))
		case len(st.differs) > 0:
			drift.Reasons = append(drift.Reasons, fmt.Sprintf("reconfigure %s: %s differ", iface, strings.Join(st.differs, ", ")))
		}
		if st.exists && !st.address {
			drift.Reasons = append(drift.Reasons, fmt.Sprintf("address %s/30 (only) on %s", local.Address, iface))
		}
		if st.exists && !st.up {
			drift.Reasons = append(drift.Reasons, fmt.Sprintf("set %s up", iface))
		}
		tunnels = append(tunnels, st)
	}
	executable := remote.ParseLines(a["exec"])
	write = map[string]bool{}
	for _, f := range files {
		switch {
		case !sums.Holds(f.Path, f.Data):
			drift.Reasons = append(drift.Reasons, "write "+f.Path)
			write[f.Path] = true
		case f.Exec && !executable[f.Path]:
			drift.Reasons = append(drift.Reasons, "make "+f.Path+" executable")
			write[f.Path] = true
		}
	}
	drift.Stale = l.staleOf(a["confs"])
	for _, iface := range drift.Stale {
		drift.Reasons = append(drift.Reasons, fmt.Sprintf("remove %s: no longer in the topology", iface))
	}
	if strings.TrimSpace(a["forward"]) != "1" {
		drift.Reasons = append(drift.Reasons, "enable IPv4 forwarding")
	}
	for _, rt := range l.Model.Routes(l.Site) {
		if !routeMatches(a["routes"], rt) {
			drift.Reasons = append(drift.Reasons, fmt.Sprintf("route %s via %s dev %s (to %s)", rt.Prefix, rt.Via, Interface(rt.Tunnel), rt.Site))
		}
	}
	return files, tunnels, drift, write, nil
}

// Inspect reports what Apply would change. It changes nothing.
func (l *Linux) Inspect(ctx context.Context, r remote.Runner) (Drift, error) {
	_, _, d, _, err := l.observe(ctx, r)
	return d, err
}

// Apply brings the router to the model: configurations, forwarding, one
// WireGuard interface per tunnel (reconfigured only where it differs),
// transit addresses and routes; interfaces the model no longer has are
// removed. It is idempotent; a run that failed midway is repaired by the
// next.
func (l *Linux) Apply(ctx context.Context, r remote.Runner) error {
	files, tunnels, drift, write, err := l.observe(ctx, r)
	if err != nil {
		return err
	}
	if drift.InSync() {
		return nil
	}
	host := r.Host()
	if len(tunnels) > 0 && drift.Implementation == Unavailable {
		return fmt.Errorf("router %q: %s", host, drift.Implementation.Note())
	}
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
		if st.inSync() {
			continue
		}
		iface := Interface(st.tunnel.Index)
		cmd := l.upCmd(st.tunnel, !st.exists || len(st.differs) > 0)
		if _, err := remote.CombinedOutput(ctx, r, cmd); err != nil {
			return fmt.Errorf("router %q: tunnel %s (%s): %w", host, iface, drift.Implementation.Note(), err)
		}
		if !st.exists {
			l.log().Info("wireguard tunnel created", "host", host, "tunnel", iface, "implementation", drift.Implementation.Note())
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

// stop removes a tunnel's interface (which ends its wireguard-go, and
// takes its routes with it) and its files.
func (l *Linux) stop(ctx context.Context, r remote.Runner, iface string) error {
	cmd := fmt.Sprintf("ip link del dev %s 2>/dev/null; rm -f %s %s", remote.ShellQuote(iface),
		remote.ShellQuote(ConfigPath(l.dir(), iface)), remote.ShellQuote(logPath(l.runDir(), iface)))
	if _, err := remote.CombinedOutput(ctx, r, cmd); err != nil {
		return fmt.Errorf("router %q: remove tunnel %s: %w", r.Host(), iface, err)
	}
	return nil
}

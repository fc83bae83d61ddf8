package openvpn

import (
	"fmt"
	"strings"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/tunnel"
)

// DefaultBootScript is where Linux writes its boot script. planetstage's lab
// node image runs every executable in /etc/planetstage/boot.d at each
// container start (the lab has no service manager); on a machine with
// systemd, a unit has to run it (see the package documentation).
const DefaultBootScript = "/etc/planetstage/boot.d/50-openvpn"

func (l *Linux) bootScript() string { return or(l.BootScript, DefaultBootScript) }

// Files returns every file Apply writes on the router: keys, certificates,
// one openvpn config per tunnel and, unless BootScript is "-", the boot
// script (mode 0755).
func (l *Linux) Files() ([]File, error) {
	files, err := RouterFiles(l.Model, l.Keys, l.Site, l.dir())
	if err != nil {
		return nil, err
	}
	if l.BootScript == "-" {
		return files, nil
	}
	script, err := l.BootScriptData()
	if err != nil {
		return nil, err
	}
	return append(files, File{Path: l.bootScript(), Data: script, Exec: true}), nil
}

// BootScriptData is the boot script: an idempotent shell script that
// enables forwarding, creates each tunnel's device and starts its openvpn
// unless it already runs with its config, and installs the routes. It uses
// the files Apply wrote and the same commands Apply runs, and exits non-zero
// if any step failed (after trying all of them).
func (l *Linux) BootScriptData() ([]byte, error) {
	s, ok := l.Model.Site(l.Site)
	if !ok {
		return nil, fmt.Errorf("openvpn: no site %q", l.Site)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# planetstage routers layer: router %s (site %s). Brings its OpenVPN tunnels\n", s.Router, s.Name)
	b.WriteString("# and routes back after a reboot. Idempotent: running tunnels are left alone.\n")
	b.WriteString("# Written by planetstage; a re-apply overwrites changes.\nfail=0\n")
	fmt.Fprintf(&b, "%s || fail=1\n", forwardCmd)
	files, err := RouterFiles(l.Model, l.Keys, l.Site, l.dir())
	if err != nil {
		return nil, err
	}
	for _, t := range l.Model.TunnelsOf(l.Site) {
		iface := Interface(t.Index)
		fmt.Fprintf(&b, "# %s to %s\n", iface, peerOf(t, l.Site))
		fmt.Fprintf(&b, "{ %s; } || fail=1\n", deviceCmd(iface))
		// The record of the started files is the one Apply writes; the
		// files are the ones written with this script.
		mark := strings.TrimSpace(string(loadedMark(files, tunnelPaths(l.dir(), iface))))
		fmt.Fprintf(&b, "if ! { %s; } >/dev/null; then\n\t%s && echo %s >%s || fail=1\nfi\n",
			l.runningCmd(t), l.startCmd(t), mark, remote.ShellQuote(loadedPath(l.runDir(), iface)))
	}
	for _, rt := range l.Model.Routes(l.Site) {
		fmt.Fprintf(&b, "%s || fail=1\n", routeCmd(rt))
	}
	b.WriteString("exit $fail\n")
	return []byte(b.String()), nil
}

// forwardCmd enables IPv4 forwarding. Containers usually have a read-only
// /proc/sys (docker run --sysctl net.ipv4.ip_forward=1 sets it instead), so
// it writes only when needed.
const forwardCmd = `[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || sysctl -q -w net.ipv4.ip_forward=1`

// deviceCmd creates iface's tun device unless it exists, and sets it up. A
// persistent device lets routes be installed before the peer answers, and
// keeps them while openvpn restarts.
func deviceCmd(iface string) string {
	return fmt.Sprintf("ip link show dev %[1]s >/dev/null 2>&1 || ip tuntap add dev %[1]s mode tun; ip link set dev %[1]s up", remote.ShellQuote(iface))
}

// runningCmd prints "running" when t's openvpn runs with t's config, and
// fails otherwise. "kill -0" is not enough: after a reboot the pid may
// belong to another process, so the command line must name our config.
func (l *Linux) runningCmd(t tunnel.Tunnel) string {
	iface := Interface(t.Index)
	return fmt.Sprintf(`pid=$(cat %s 2>/dev/null) && [ -n "$pid" ] && tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null | grep -qF -- %s && echo running`,
		remote.ShellQuote(pidPath(l.runDir(), iface)), remote.ShellQuote(ConfigPath(l.dir(), iface)))
}

// startCmd starts t's openvpn as a daemon, after removing the record of
// what the previous one was started with.
func (l *Linux) startCmd(t tunnel.Tunnel) string {
	iface := Interface(t.Index)
	pid := remote.ShellQuote(pidPath(l.runDir(), iface))
	return fmt.Sprintf("mkdir -p %s && rm -f %s %s && ip addr flush dev %s && "+
		"openvpn --daemon %s --config %s --writepid %s --log-append %s --status %s 30",
		remote.ShellQuote(l.runDir()), pid, remote.ShellQuote(loadedPath(l.runDir(), iface)), remote.ShellQuote(iface),
		remote.ShellQuote("planetstage-"+iface), remote.ShellQuote(ConfigPath(l.dir(), iface)), pid,
		remote.ShellQuote(logPath(l.runDir(), iface)), remote.ShellQuote(statusPath(l.runDir(), iface)))
}

// routeCmd installs rt.
func routeCmd(rt tunnel.Route) string {
	return fmt.Sprintf("ip route replace %s via %s dev %s onlink", rt.Prefix, rt.Via, remote.ShellQuote(Interface(rt.Tunnel)))
}

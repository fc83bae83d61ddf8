package wireguard

import (
	"fmt"
	"strings"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/tunnel"
)

func (l *Linux) bootScript() string { return or(l.BootScript, DefaultBootScript) }

// Files returns every file Apply writes on the router: one configuration
// per tunnel (mode 0600: it holds the private key) and, unless BootScript
// is "-", the boot script (mode 0755).
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
// enables forwarding, brings up each tunnel's interface that is missing
// (kernel WireGuard, else wireguard-go) from the configuration Apply
// wrote, and installs the routes. Interfaces that exist are left alone.
// It exits non-zero if any step failed (after trying all of them).
func (l *Linux) BootScriptData() ([]byte, error) {
	s, ok := l.Model.Site(l.Site)
	if !ok {
		return nil, fmt.Errorf("wireguard: no site %q", l.Site)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# planetstage routers layer: router %s (site %s). Brings its WireGuard tunnels\n", s.Router, s.Name)
	b.WriteString("# and routes back after a reboot. Idempotent: existing interfaces are left alone.\n")
	b.WriteString("# Written by planetstage; a re-apply overwrites changes.\nfail=0\n")
	fmt.Fprintf(&b, "%s || fail=1\n", forwardCmd)
	for _, t := range l.Model.TunnelsOf(l.Site) {
		iface := Interface(t.Index)
		_, peer, _ := t.Local(l.Site)
		fmt.Fprintf(&b, "# %s to %s\n", iface, peer.Router)
		fmt.Fprintf(&b, "if ! ip link show dev %s >/dev/null 2>&1; then\n\t{ %s; } || fail=1\nfi\n", remote.ShellQuote(iface), l.upCmd(t, true))
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

// upCmd brings t's interface to the model: it creates it unless it exists
// (the kernel's WireGuard, else wireguard-go, which daemonizes and ends
// when its interface is deleted), loads the configuration when configure,
// and sets the transit address and the link up.
func (l *Linux) upCmd(t tunnel.Tunnel, configure bool) string {
	iface := Interface(t.Index)
	q := remote.ShellQuote(iface)
	local, _, _ := t.Local(l.Site)
	var b strings.Builder
	fmt.Fprintf(&b, "ip link show dev %[1]s >/dev/null 2>&1 || ip link add dev %[1]s type wireguard 2>/dev/null || "+
		"{ mkdir -p %[2]s && wireguard-go %[1]s >>%[3]s 2>&1; }", q, remote.ShellQuote(l.runDir()), remote.ShellQuote(logPath(l.runDir(), iface)))
	if configure {
		fmt.Fprintf(&b, " && wg setconf %s %s", q, remote.ShellQuote(ConfigPath(l.dir(), iface)))
	}
	// The one address of the interface is its end's: an interface that
	// served another tunnel end before keeps no address of that.
	fmt.Fprintf(&b, ` && { [ "$(ip -4 -o addr show dev %[1]s | awk '{print $4}')" = %[2]s ] || { ip -4 addr flush dev %[1]s && ip addr add %[2]s dev %[1]s; }; }`+
		" && ip link set dev %[1]s up", q, local.Address.String()+"/30")
	return b.String()
}

// routeCmd installs rt.
func routeCmd(rt tunnel.Route) string {
	return fmt.Sprintf("ip route replace %s via %s dev %s onlink", rt.Prefix, rt.Via, remote.ShellQuote(Interface(rt.Tunnel)))
}

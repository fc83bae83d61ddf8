package openvpn

import (
	"context"
	"fmt"
	"strings"

	"github.com/planetstage/planetstage/remote"
)

// InspectRemove reports what Remove would undo on the router; no reasons
// means nothing of planetstage's is left. It changes nothing. IP forwarding
// is left as it is (other services may need it).
func (l *Linux) InspectRemove(ctx context.Context, r remote.Runner) ([]string, error) {
	ifaces, err := l.presentTunnels(ctx, r)
	if err != nil {
		return nil, err
	}
	var reasons []string
	for _, iface := range ifaces {
		reasons = append(reasons, fmt.Sprintf("stop openvpn %s, remove its device and files", iface))
	}
	for _, rt := range l.Model.Routes(l.Site) {
		out, err := remote.Output(ctx, r, "ip -4 route show exact "+rt.Prefix.String())
		if err != nil {
			return nil, fmt.Errorf("router %q: read route %s: %w", r.Host(), rt.Prefix, err)
		}
		if routeMatches(out, rt) {
			reasons = append(reasons, fmt.Sprintf("remove route %s via %s dev %s", rt.Prefix, rt.Via, Interface(rt.Tunnel)))
		}
	}
	for _, p := range []string{certPath(l.dir()), keyPath(l.dir()), or(l.SysctlFile, DefaultSysctlFile), or(l.BootScript, DefaultBootScript)} {
		if p == "-" {
			continue
		}
		if _, err := r.ReadFile(ctx, p); err == nil {
			reasons = append(reasons, "remove "+p)
		}
	}
	return reasons, nil
}

// presentTunnels lists the model's and stale tunnels that have a pid file,
// a config or a device on the router.
func (l *Linux) presentTunnels(ctx context.Context, r remote.Runner) ([]string, error) {
	stale, err := l.stale(ctx, r)
	if err != nil {
		return nil, err
	}
	var ifaces []string
	for _, t := range l.Model.TunnelsOf(l.Site) {
		ifaces = append(ifaces, Interface(t.Index))
	}
	var present []string
	for _, iface := range append(ifaces, stale...) {
		cmd := fmt.Sprintf("if [ -e %s ] || [ -e %s ] || ip link show dev %s >/dev/null 2>&1; then echo present; fi",
			remote.ShellQuote(pidPath(l.runDir(), iface)), remote.ShellQuote(ConfigPath(l.dir(), iface)), remote.ShellQuote(iface))
		out, err := remote.Output(ctx, r, cmd)
		if err != nil {
			return nil, fmt.Errorf("router %q: look for tunnel %s: %w", r.Host(), iface, err)
		}
		if strings.TrimSpace(out) == "present" {
			present = append(present, iface)
		}
	}
	return present, nil
}

// Remove undoes Apply: it stops the router's openvpn daemons, deletes their
// tun devices (and with them the routes through them), and removes the
// configs, keys, the sysctl file and the boot script. A failure midway is repaired by running
// it again.
func (l *Linux) Remove(ctx context.Context, r remote.Runner) error {
	ifaces, err := l.presentTunnels(ctx, r)
	if err != nil {
		return err
	}
	for _, iface := range ifaces {
		if err := l.stop(ctx, r, iface); err != nil {
			return err
		}
	}
	files := []string{certPath(l.dir()), keyPath(l.dir())}
	if l.SysctlFile != "-" {
		files = append(files, or(l.SysctlFile, DefaultSysctlFile))
	}
	if l.BootScript != "-" {
		files = append(files, l.bootScript())
	}
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = remote.ShellQuote(f)
	}
	if _, err := remote.CombinedOutput(ctx, r, "rm -f "+strings.Join(quoted, " ")); err != nil {
		return fmt.Errorf("router %q: remove key material: %w", r.Host(), err)
	}
	l.log().Info("router tunnels removed", "host", r.Host(), "site", l.Site, "tunnels", len(ifaces))
	return nil
}

package wireguard

import (
	"context"
	"fmt"
	"strings"

	"github.com/planetstage/planetstage/remote"
)

// InspectRemove reports what Remove would undo on the router; no reasons
// means nothing of planetstage's WireGuard is left. It changes nothing. IP
// forwarding is left as it is (other services may need it).
func (l *Linux) InspectRemove(ctx context.Context, r remote.Runner) ([]string, error) {
	ifaces, err := l.presentTunnels(ctx, r)
	if err != nil {
		return nil, err
	}
	var reasons []string
	for _, iface := range ifaces {
		reasons = append(reasons, fmt.Sprintf("remove WireGuard interface %s and its configuration", iface))
	}
	for _, p := range []string{or(l.SysctlFile, DefaultSysctlFile), or(l.BootScript, DefaultBootScript)} {
		if p == "-" {
			continue
		}
		if _, err := r.ReadFile(ctx, p); err == nil {
			reasons = append(reasons, "remove "+p)
		}
	}
	return reasons, nil
}

// presentTunnels lists the model's and stale tunnels that have a
// configuration or an interface on the router.
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
		cmd := fmt.Sprintf("if [ -e %s ] || ip link show dev %s >/dev/null 2>&1; then echo present; fi",
			remote.ShellQuote(ConfigPath(l.dir(), iface)), remote.ShellQuote(iface))
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

// Remove undoes Apply: it deletes the router's WireGuard interfaces (and
// with them their routes; wireguard-go ends with its interface), and
// removes their configurations, the sysctl file and the boot script. A
// failure midway is repaired by running it again.
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
	var files []string
	if l.SysctlFile != "-" {
		files = append(files, remote.ShellQuote(or(l.SysctlFile, DefaultSysctlFile)))
	}
	if l.BootScript != "-" {
		files = append(files, remote.ShellQuote(l.bootScript()))
	}
	if len(files) > 0 {
		if _, err := remote.CombinedOutput(ctx, r, "rm -f "+strings.Join(files, " ")); err != nil {
			return fmt.Errorf("router %q: remove files: %w", r.Host(), err)
		}
	}
	l.log().Info("router tunnels removed", "host", r.Host(), "site", l.Site, "tunnels", len(ifaces))
	return nil
}

package openvpn

import (
	"context"
	"fmt"
	"strings"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/tunnel"
)

// A look is what Inspect needs from a router, read in one round trip
// (remote.Batch): a router with many tunnels used to take one SSH command
// per file, daemon and route (dozens for a hub), which at planetary
// distances is seconds per router and dominated a no-op apply. Files are
// compared by SHA-256, so no key material crosses the wire to be
// inspected.
type look struct {
	sums    remote.Sums     // files that exist
	exec    map[string]bool // executable files among those asked about
	running map[string]bool // interface: its openvpn runs its config
	pids    []string        // the run directory's *.pid files
	forward string          // /proc/sys/net/ipv4/ip_forward
	routes  []string        // ip -4 route show, one route a line
}

// look reads the SHA-256 of paths, which of execs are executable, which
// of tunnels' daemons run, the pid files, forwarding and the routes.
func (l *Linux) look(ctx context.Context, r remote.Runner, paths, execs []string, tunnels []tunnel.Tunnel) (look, error) {
	var runningCmd strings.Builder
	runningCmd.WriteString("true")
	for _, t := range tunnels {
		fmt.Fprintf(&runningCmd, "; { %s; } >/dev/null && echo %s", l.runningCmd(t), remote.ShellQuote(Interface(t.Index)))
	}
	a, err := remote.Batch(ctx, r, []remote.Query{
		{Name: "sums", Command: remote.SumFilesCommand(paths)},
		{Name: "exec", Command: remote.ExecutableCommand(execs)},
		{Name: "running", Command: runningCmd.String()},
		{Name: "pids", Command: fmt.Sprintf("cd %s && ls -1 -- *.pid", remote.ShellQuote(l.runDir()))},
		{Name: "forward", Command: "cat /proc/sys/net/ipv4/ip_forward"},
		{Name: "routes", Command: "ip -4 route show"},
	})
	if err != nil {
		return look{}, fmt.Errorf("router %q: read the tunnels' state: %w", r.Host(), err)
	}
	lk := look{exec: remote.ParseLines(a["exec"]), running: remote.ParseLines(a["running"]), forward: strings.TrimSpace(a["forward"]),
		pids: strings.Fields(a["pids"]), routes: strings.Split(a["routes"], "\n")}
	if lk.sums, err = remote.ParseSums(a["sums"]); err != nil {
		return look{}, fmt.Errorf("router %q: %w", r.Host(), err)
	}
	return lk, nil
}

// route returns the lines of the routing table for exactly prefix, as ip
// route show exact would print them.
func (lk look) route(prefix string) string {
	var lines []string
	for _, l := range lk.routes {
		if f := strings.Fields(l); len(f) > 0 && f[0] == prefix {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

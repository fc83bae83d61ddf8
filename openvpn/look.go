package openvpn

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/tunnel"
)

// A look is what Inspect needs from a router, read in one round trip: a
// router with many tunnels used to take one SSH command per file, daemon
// and route (dozens for a hub), which at planetary distances is seconds
// per router and dominated a no-op apply. Files are compared by SHA-256,
// so no key material crosses the wire to be inspected.
type look struct {
	sums    map[string]string // path: hex SHA-256, for files that exist
	exec    map[string]bool   // executable files among those asked about
	running map[string]bool   // interface: its openvpn runs its config
	pids    []string          // the run directory's *.pid files
	forward string            // /proc/sys/net/ipv4/ip_forward
	routes  []string          // ip -4 route show, one route a line
}

// Section markers of the look script's output.
const (
	lookFiles   = "#planetstage-files"
	lookExec    = "#planetstage-exec"
	lookRunning = "#planetstage-running"
	lookPids    = "#planetstage-pids"
	lookForward = "#planetstage-forward"
	lookRoutes  = "#planetstage-routes"
	lookEnd     = "#planetstage-end"
)

// lookScript reads the SHA-256 of paths, which of execs are executable,
// which of tunnels' daemons run, the pid files, forwarding and the routes.
// Every part tolerates what is missing; the end marker proves the script
// ran to its end.
func (l *Linux) lookScript(paths, execs []string, tunnels []tunnel.Tunnel) string {
	var b strings.Builder
	b.WriteString("echo '" + lookFiles + "'\n")
	if len(paths) > 0 {
		b.WriteString("sha256sum --")
		for _, p := range paths {
			b.WriteString(" " + remote.ShellQuote(p))
		}
		b.WriteString(" 2>/dev/null\n")
	}
	b.WriteString("echo '" + lookExec + "'\n")
	for _, p := range execs {
		q := remote.ShellQuote(p)
		fmt.Fprintf(&b, "[ -x %s ] && printf '%%s\\n' %s\n", q, q)
	}
	b.WriteString("echo '" + lookRunning + "'\n")
	for _, t := range tunnels {
		fmt.Fprintf(&b, "{ %s; } >/dev/null 2>&1 && echo %s\n", l.runningCmd(t), remote.ShellQuote(Interface(t.Index)))
	}
	b.WriteString("echo '" + lookPids + "'\n")
	fmt.Fprintf(&b, "( cd %s 2>/dev/null && ls -1 -- *.pid 2>/dev/null )\n", remote.ShellQuote(l.runDir()))
	b.WriteString("echo '" + lookForward + "'\n")
	b.WriteString("cat /proc/sys/net/ipv4/ip_forward\n")
	b.WriteString("echo '" + lookRoutes + "'\n")
	b.WriteString("ip -4 route show\n")
	b.WriteString("echo '" + lookEnd + "'\n")
	return b.String()
}

// look runs lookScript on r and parses what it printed.
func (l *Linux) look(ctx context.Context, r remote.Runner, paths, execs []string, tunnels []tunnel.Tunnel) (look, error) {
	out, err := remote.Output(ctx, r, l.lookScript(paths, execs, tunnels))
	if err != nil {
		return look{}, fmt.Errorf("router %q: read the tunnels' state: %w", r.Host(), err)
	}
	return parseLook(out, r.Host())
}

func parseLook(out, host string) (look, error) {
	lk := look{sums: map[string]string{}, exec: map[string]bool{}, running: map[string]bool{}}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		switch line {
		case lookFiles, lookExec, lookRunning, lookPids, lookForward, lookRoutes:
			section = line
			continue
		case lookEnd:
			return lk, nil
		}
		if line == "" {
			continue
		}
		switch section {
		case lookFiles:
			sum, path, ok := strings.Cut(line, "  ")
			if !ok || len(sum) != sha256.Size*2 {
				return look{}, fmt.Errorf("router %q: unexpected sha256sum line %q", host, line)
			}
			lk.sums[path] = sum
		case lookExec:
			lk.exec[line] = true
		case lookRunning:
			lk.running[line] = true
		case lookPids:
			lk.pids = append(lk.pids, line)
		case lookForward:
			lk.forward = strings.TrimSpace(line)
		case lookRoutes:
			lk.routes = append(lk.routes, line)
		}
		// Before the first marker: whatever the login shell printed.
	}
	return look{}, fmt.Errorf("router %q: the state read stopped before its end", host)
}

// same reports whether the file at path holds data.
func (lk look) same(path string, data []byte) bool {
	sum, ok := lk.sums[path]
	if !ok {
		return false
	}
	want := sha256.Sum256(data)
	return sum == hex.EncodeToString(want[:])
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

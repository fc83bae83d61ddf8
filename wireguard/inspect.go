package wireguard

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/tunnel"
)

// routeMatches reports whether lines of the routing table (ip -4 route
// show) hold rt as planned.
func routeMatches(table string, rt tunnel.Route) bool {
	for line := range strings.Lines(table) {
		f := strings.Fields(line)
		if len(f) >= 5 && f[0] == rt.Prefix.String() &&
			strings.Contains(" "+strings.TrimSpace(line)+" ", " via "+rt.Via.String()+" dev "+Interface(rt.Tunnel)+" ") {
			return true
		}
	}
	return false
}

// tunnelCmd prints what Inspect reads of t's interface: its link, its
// addresses and "wg show dump", separated by @@ lines.
func tunnelCmd(t tunnel.Tunnel) string {
	return fmt.Sprintf("ip -o link show dev %[1]s 2>/dev/null || echo absent; echo @@; ip -4 -o addr show dev %[1]s 2>/dev/null; echo @@; wg show %[1]s dump 2>/dev/null; true",
		remote.ShellQuote(Interface(t.Index)))
}

// parseTunnel reads tunnelCmd's output: whether the interface exists, is
// up, has its address, and what its dump says against the model. The
// dump holds the private and pre-shared keys; they are compared here and
// go nowhere else (remote.Output keeps standard output out of errors).
func (l *Linux) parseTunnel(t tunnel.Tunnel, out string) tunnelState {
	st := tunnelState{tunnel: t}
	parts := strings.SplitN(out, "@@\n", 3)
	if len(parts) != 3 || strings.TrimSpace(parts[0]) == "absent" {
		return st
	}
	st.exists = true
	if i, j := strings.Index(parts[0], "<"), strings.Index(parts[0], ">"); i >= 0 && j > i {
		st.up = slices.Contains(strings.Split(parts[0][i+1:j], ","), "UP")
	}
	local, _, _ := t.Local(l.Site)
	addrs := strings.Split(strings.TrimSpace(parts[1]), "\n")
	st.address = len(addrs) == 1 && strings.Contains(addrs[0], " "+local.Address.String()+"/30 ")
	st.differs = l.dumpDiffers(t, parts[2])
	return st
}

// dumpDiffers compares "wg show IFACE dump" with the model and names the
// settings that differ, never their values.
func (l *Linux) dumpDiffers(t tunnel.Tunnel, dump string) []string {
	lines := strings.Split(strings.TrimRight(dump, "\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return []string{"all settings (wg show gives nothing)"}
	}
	iface := strings.Split(lines[0], "\t")
	local, peer, _ := t.Local(l.Site)
	var differs []string
	if len(iface) < 3 || iface[1] != l.Keys.Private[local.Router].Public().String() {
		differs = append(differs, "private key")
	}
	if len(iface) < 3 || iface[2] != fmt.Sprint(t.Port) {
		differs = append(differs, "listen port")
	}
	if len(lines) != 2 {
		return append(differs, fmt.Sprintf("peers (%d, want 1)", len(lines)-1))
	}
	p := strings.Split(lines[1], "\t")
	if len(p) < 8 {
		return append(differs, "peer")
	}
	if pub, _ := l.Keys.Public(peer.Router); p[0] != pub.String() {
		differs = append(differs, "peer public key")
	}
	psk := "(none)"
	if l.Model.PresharedKey {
		psk = l.Keys.Preshared[t.Name()].String()
	}
	if p[1] != psk {
		differs = append(differs, "pre-shared key")
	}
	if ep, _ := l.Model.Endpoint(t, l.Site); p[2] != ep.String() {
		differs = append(differs, "endpoint")
	}
	have := strings.Split(p[3], ",")
	slices.Sort(have)
	want := strings.Split(joinPrefixes(l.Model.AllowedIPs(t, l.Site)), ",")
	slices.Sort(want)
	if !slices.Equal(have, want) {
		differs = append(differs, "allowed-ips")
	}
	keep := "off"
	if l.Model.Keepalive > 0 {
		keep = fmt.Sprint(l.Model.Keepalive)
	}
	if p[7] != keep {
		differs = append(differs, "persistent keepalive")
	}
	return differs
}

// staleCmd lists the configurations in Dir.
func (l *Linux) staleCmd() string {
	return fmt.Sprintf("cd %s 2>/dev/null && ls -1 -- wg*.conf 2>/dev/null || true", remote.ShellQuote(l.dir()))
}

// stale lists the interfaces whose configuration is in Dir but that the
// model does not have at this site.
func (l *Linux) stale(ctx context.Context, r remote.Runner) ([]string, error) {
	out, err := remote.Output(ctx, r, l.staleCmd())
	if err != nil {
		return nil, fmt.Errorf("router %q: list configurations: %w", r.Host(), err)
	}
	return l.staleOf(out), nil
}

// staleOf is stale from staleCmd's output.
func (l *Linux) staleOf(confs string) []string {
	want := map[string]bool{}
	for _, t := range l.Model.TunnelsOf(l.Site) {
		want[Interface(t.Index)] = true
	}
	var stale []string
	for _, f := range strings.Fields(confs) {
		iface := strings.TrimSuffix(f, ".conf")
		if wgPattern(iface) && !want[iface] {
			stale = append(stale, iface)
		}
	}
	return stale
}

// wgPattern reports whether s is an interface name this package makes.
func wgPattern(s string) bool {
	if !strings.HasPrefix(s, "wg") || len(s) == 2 {
		return false
	}
	for _, c := range s[2:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

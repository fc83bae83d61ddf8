package openvpntest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/tunnel"
)

// Runner is remote.Local with every command run inside a network namespace.
// Files are written to this machine's file system, which the namespaces
// share.
type Runner struct {
	NS    string
	local remote.Local
}

var _ remote.Runner = (*Runner)(nil)

// Run implements remote.Runner.
func (n *Runner) Run(ctx context.Context, cmd remote.Cmd) error {
	cmd.Command = "ip netns exec " + n.NS + " /bin/sh -c " + remote.ShellQuote(cmd.Command)
	return n.local.Run(ctx, cmd)
}

// WriteFile implements remote.Runner.
func (n *Runner) WriteFile(ctx context.Context, path string, data []byte, mode fs.FileMode) error {
	return n.local.WriteFile(ctx, path, data, mode)
}

// ReadFile implements remote.Runner.
func (n *Runner) ReadFile(ctx context.Context, path string) ([]byte, error) {
	return n.local.ReadFile(ctx, path)
}

// Host implements remote.Runner.
func (n *Runner) Host() string { return n.NS }

// RequireNetns skips t unless this machine can run the lab.
func RequireNetns(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	for _, bin := range []string{"ip", "openvpn", "ping"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s in PATH (apt-get install iproute2 openvpn iputils-ping)", bin)
		}
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("needs /dev/net/tun")
	}
}

// Sh runs a shell command on this machine and fails t if it fails.
func Sh(t testing.TB, format string, args ...any) string {
	t.Helper()
	cmd := fmt.Sprintf(format, args...)
	out, err := exec.Command("/bin/sh", "-c", cmd).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", cmd, err, out)
	}
	return string(out)
}

// Lab is an underlay bridge and, per site, a router and a host namespace.
// Site i has router WAN 10.4.0.(90+i)/24 on "wan", LAN 192.168.(10*(i+1)).1/24
// on "lan", and a host at .101 whose default gateway is the router.
type Lab struct {
	Prefix string
	Sites  []tunnel.Site
	Hosts  []netip.Addr
	// Dirs are per-router scratch directories; a test keeps a router's
	// configs and pid files (*.pid, found by Close) under Dirs[i].
	Dirs []string
}

// RouterNS and HostNS name site i's namespaces.
func (l *Lab) RouterNS(i int) string { return fmt.Sprintf("%s-r%d", l.Prefix, i) }

// HostNS names site i's host namespace.
func (l *Lab) HostNS(i int) string { return fmt.Sprintf("%s-h%d", l.Prefix, i) }

// Router returns a Runner inside site i's router namespace.
func (l *Lab) Router(i int) *Runner { return &Runner{NS: l.RouterNS(i)} }

// New builds a lab of n sites; t's cleanup removes it.
func New(t testing.TB, n int) *Lab {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	l := &Lab{Prefix: "psr-" + hex.EncodeToString(b)}
	under := l.Prefix + "-u"
	t.Cleanup(func() { l.close(n) })
	Sh(t, "ip netns add %[1]s && ip -n %[1]s link set lo up && ip -n %[1]s link add br0 type bridge && ip -n %[1]s link set br0 up", under)
	for i := range n {
		r, h := l.RouterNS(i), l.HostNS(i)
		wan := netip.AddrFrom4([4]byte{10, 4, 0, byte(90 + i)})
		lan := netip.AddrFrom4([4]byte{192, 168, byte(10 * (i + 1)), 1})
		host := netip.AddrFrom4([4]byte{192, 168, byte(10 * (i + 1)), 101})
		Sh(t, "ip netns add %s && ip netns add %s", r, h)
		Sh(t, "ip link add wan netns %s type veth peer name w%d netns %s", r, i, under)
		Sh(t, "ip -n %s link set w%d master br0 up", under, i)
		Sh(t, "ip link add lan netns %s type veth peer name eth0 netns %s", r, h)
		Sh(t, "ip -n %[1]s link set lo up && ip -n %[1]s addr add %[2]s/24 dev wan && ip -n %[1]s link set wan up && ip -n %[1]s addr add %[3]s/24 dev lan && ip -n %[1]s link set lan up", r, wan, lan)
		Sh(t, "ip -n %[1]s link set lo up && ip -n %[1]s addr add %[2]s/24 dev eth0 && ip -n %[1]s link set eth0 up && ip -n %[1]s route add default via %[3]s", h, host, lan)
		l.Sites = append(l.Sites, tunnel.Site{
			Name: fmt.Sprintf("site-%c", 'a'+i), Router: fmt.Sprintf("r%d", i),
			WAN: wan, LAN: lan, Prefix: netip.PrefixFrom(lan, 24).Masked(),
		})
		l.Hosts = append(l.Hosts, host)
		l.Dirs = append(l.Dirs, t.TempDir())
	}
	return l
}

// close stops every process left in the lab's namespaces (only the
// daemons the test started run there) and deletes the namespaces.
func (l *Lab) close(n int) {
	nss := []string{l.Prefix + "-u"}
	for i := range n {
		nss = append(nss, l.RouterNS(i), l.HostNS(i))
	}
	for _, ns := range nss {
		out, _ := exec.Command("ip", "netns", "pids", ns).Output()
		for _, pid := range strings.Fields(string(out)) {
			_ = exec.Command("kill", pid).Run()
		}
	}
	for _, ns := range nss {
		for range 50 { // a namespace whose processes are exiting is still busy
			out, _ := exec.Command("ip", "netns", "pids", ns).Output()
			if strings.TrimSpace(string(out)) == "" {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		_ = exec.Command("ip", "netns", "del", ns).Run()
	}
}

// Ping pings addr from namespace ns until it answers or within passes.
func Ping(ns string, addr netip.Addr, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		out, err := exec.Command("ip", "netns", "exec", ns, "ping", "-c1", "-W1", addr.String()).CombinedOutput()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ping %s from %s: %v: %s", addr, ns, err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// PingAll fails t unless every site's host and router reach every other
// site's host and router (its LAN address). Routers count as sources too:
// their own packets leave with a tunnel address as source, which the far
// side must route back (in hub-spoke, through the hub).
func (l *Lab) PingAll(t testing.TB, within time.Duration) {
	t.Helper()
	for i := range l.Sites {
		for j := range l.Sites {
			if i == j {
				continue
			}
			for _, from := range []string{l.HostNS(i), l.RouterNS(i)} {
				for _, to := range []netip.Addr{l.Hosts[j], l.Sites[j].LAN} {
					if err := Ping(from, to, within); err != nil {
						t.Fatalf("%s (%s) -> %s (%s): %v\n%s", l.Sites[i].Name, from, l.Sites[j].Name, to, err, l.Diagnose())
					}
				}
			}
		}
	}
}

// Diagnose returns the routers' openvpn logs (files *.log under Dirs),
// addresses and routes.
func (l *Lab) Diagnose() string {
	var b strings.Builder
	for i := range l.Sites {
		out, _ := exec.Command("/bin/sh", "-c", fmt.Sprintf("tail -n 15 %[1]s/*.log %[1]s/*/*.log 2>/dev/null; ip -n %[2]s -br addr; ip -n %[2]s route",
			l.Dirs[i], l.RouterNS(i))).CombinedOutput()
		fmt.Fprintf(&b, "--- router %d\n%s", i, out)
	}
	return b.String()
}

package openvpn_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/remote"
)

// netnsRunner is remote.Local with every command run inside a network
// namespace. Files are written on this machine's file system, which the
// namespaces share.
type netnsRunner struct {
	ns    string
	local remote.Local
}

func (n *netnsRunner) Run(ctx context.Context, cmd remote.Cmd) error {
	cmd.Command = "ip netns exec " + n.ns + " /bin/sh -c " + remote.ShellQuote(cmd.Command)
	return n.local.Run(ctx, cmd)
}
func (n *netnsRunner) WriteFile(ctx context.Context, path string, data []byte, mode fs.FileMode) error {
	return n.local.WriteFile(ctx, path, data, mode)
}
func (n *netnsRunner) ReadFile(ctx context.Context, path string) ([]byte, error) {
	return n.local.ReadFile(ctx, path)
}
func (n *netnsRunner) Host() string { return n.ns }

// requireNetns skips unless this machine can run the real-OpenVPN tests.
func requireNetns(t *testing.T) {
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

func sh(t *testing.T, format string, args ...any) string {
	t.Helper()
	cmd := fmt.Sprintf(format, args...)
	out, err := exec.Command("/bin/sh", "-c", cmd).CombinedOutput()
	require.NoError(t, err, "%s: %s", cmd, out)
	return string(out)
}

// lab is a set of network namespaces: an underlay bridge, and per site a
// router and a host behind it.
type lab struct {
	prefix string
	sites  []openvpn.Site
	hosts  []netip.Addr
	dirs   []string
}

func (l *lab) ns(kind string, i int) string { return fmt.Sprintf("%s-%s%d", l.prefix, kind, i) }

func newLab(t *testing.T, n int) *lab {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	l := &lab{prefix: "psr-" + hex.EncodeToString(b)}
	under := l.prefix + "-u"
	t.Cleanup(func() { l.teardown(n) })
	sh(t, "ip netns add %s && ip -n %[1]s link set lo up && ip -n %[1]s link add br0 type bridge && ip -n %[1]s link set br0 up", under)
	for i := range n {
		r, h := l.ns("r", i), l.ns("h", i)
		wan := netip.AddrFrom4([4]byte{10, 4, 0, byte(90 + i)})
		lan := netip.AddrFrom4([4]byte{192, 168, byte(10 * (i + 1)), 1})
		host := netip.AddrFrom4([4]byte{192, 168, byte(10 * (i + 1)), 101})
		sh(t, "ip netns add %s && ip netns add %s", r, h)
		sh(t, "ip link add wan netns %s type veth peer name w%d netns %s", r, i, under)
		sh(t, "ip -n %s link set w%d master br0 up", under, i)
		sh(t, "ip link add lan netns %s type veth peer name eth0 netns %s", r, h)
		sh(t, "ip -n %[1]s link set lo up && ip -n %[1]s addr add %[2]s/24 dev wan && ip -n %[1]s link set wan up && ip -n %[1]s addr add %[3]s/24 dev lan && ip -n %[1]s link set lan up", r, wan, lan)
		sh(t, "ip -n %[1]s link set lo up && ip -n %[1]s addr add %[2]s/24 dev eth0 && ip -n %[1]s link set eth0 up && ip -n %[1]s route add default via %[3]s", h, host, lan)
		l.sites = append(l.sites, openvpn.Site{
			Name: fmt.Sprintf("site-%c", 'a'+i), Router: fmt.Sprintf("r%d", i),
			WAN: wan, LAN: lan, Prefix: netip.PrefixFrom(lan, 24).Masked(),
		})
		l.hosts = append(l.hosts, host)
		l.dirs = append(l.dirs, t.TempDir())
	}
	return l
}

// teardown stops the openvpn daemons the test started (by their pid files)
// and deletes the namespaces.
func (l *lab) teardown(n int) {
	for _, d := range l.dirs {
		pids, _ := filepath.Glob(filepath.Join(d, "run", "*.pid"))
		for _, p := range pids {
			if b, err := os.ReadFile(p); err == nil {
				_ = exec.Command("kill", strings.TrimSpace(string(b))).Run()
			}
		}
	}
	for i := range n {
		_ = exec.Command("ip", "netns", "del", l.ns("r", i)).Run()
		_ = exec.Command("ip", "netns", "del", l.ns("h", i)).Run()
	}
	_ = exec.Command("ip", "netns", "del", l.prefix+"-u").Run()
}

// diagnose returns the routers' openvpn logs, addresses and routes.
func (l *lab) diagnose() string {
	var b strings.Builder
	for i := range l.sites {
		out, _ := exec.Command("/bin/sh", "-c", fmt.Sprintf("tail -n 15 %s/run/*.log; ip -n %s -br addr; ip -n %[2]s route",
			l.dirs[i], l.ns("r", i))).CombinedOutput()
		fmt.Fprintf(&b, "--- router %d\n%s", i, out)
	}
	return b.String()
}

func (l *lab) router(m *openvpn.Model, k *openvpn.Keys, i int) (*openvpn.Linux, remote.Runner) {
	return &openvpn.Linux{
		Model: m, Keys: k, Site: l.sites[i].Name,
		Dir: filepath.Join(l.dirs[i], "etc"), RunDir: filepath.Join(l.dirs[i], "run"), SysctlFile: "-",
	}, &netnsRunner{ns: l.ns("r", i)}
}

// pingAll proves that every site's host reaches every other site's host.
func (l *lab) pingAll(t *testing.T, within time.Duration) {
	t.Helper()
	for i := range l.sites {
		for j := range l.sites {
			if i == j {
				continue
			}
			deadline := time.Now().Add(within)
			for {
				out, err := exec.Command("ip", "netns", "exec", l.ns("h", i), "ping", "-c1", "-W1", l.hosts[j].String()).CombinedOutput()
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					require.Failf(t, "no ping", "%s -> %s: %s\n%s", l.sites[i].Name, l.sites[j].Name, out, l.diagnose())
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
}

func TestRealOpenVPN(t *testing.T) {
	requireNetns(t)
	cases := []struct {
		name  string
		sites int
		mode  openvpn.Mode
		auth  openvpn.Auth
	}{
		{"mesh-2-tls", 2, openvpn.Mesh, openvpn.TLS},
		{"mesh-3-tls", 3, openvpn.Mesh, openvpn.TLS},
		{"mesh-3-static-key", 3, openvpn.Mesh, openvpn.StaticKey},
		{"hub-spoke-3-tls", 3, openvpn.HubSpoke, openvpn.TLS},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			l := newLab(t, tc.sites)
			spec := openvpn.Spec{
				Sites: l.sites, Mode: tc.mode, Auth: tc.auth,
				Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: 1194,
				Keepalive: openvpn.Keepalive{Interval: 2, Restart: 10},
			}
			if tc.mode == openvpn.HubSpoke {
				spec.Hub = l.sites[1].Name // not the first site, to prove hub choice matters
			}
			m, err := openvpn.New(spec)
			require.NoError(t, err)
			keys, err := openvpn.LoadKeys(openvpn.DirStore(t.TempDir()), m)
			require.NoError(t, err)

			for i := range l.sites {
				lr, r := l.router(m, keys, i)
				d, err := lr.Inspect(ctx, r)
				require.NoError(t, err)
				assert.False(t, d.InSync(), "fresh router %d must need changes", i)
				require.NoError(t, lr.Apply(ctx, r), "apply router %d", i)
			}
			l.pingAll(t, 30*time.Second)

			// A second run changes nothing and keeps the daemons.
			pids := sh(t, "cat %s/run/*.pid", l.dirs[0])
			for i := range l.sites {
				lr, r := l.router(m, keys, i)
				d, err := lr.Inspect(ctx, r)
				require.NoError(t, err)
				assert.True(t, d.InSync(), "router %d after apply: %v", i, d.Reasons)
				require.NoError(t, lr.Apply(ctx, r))
			}
			assert.Equal(t, pids, sh(t, "cat %s/run/*.pid", l.dirs[0]), "re-apply must not restart openvpn")

			if tc.mode == openvpn.HubSpoke {
				// spoke to spoke goes through the hub's tunnel
				out := sh(t, "ip netns exec %s ip route get %s", l.ns("r", 0), l.hosts[2])
				hubTunnel := m.TunnelsOf(l.sites[0].Name)[0].Interface
				assert.Contains(t, out, "dev "+hubTunnel)
			}

			// A router whose openvpn died is repaired by the next apply, and
			// its peers reconnect by themselves.
			lr, r := l.router(m, keys, 0)
			sh(t, "kill $(cat %s/run/*.pid)", l.dirs[0])
			require.Eventually(t, func() bool {
				d, err := lr.Inspect(ctx, r)
				return err == nil && !d.InSync()
			}, 5*time.Second, 100*time.Millisecond)
			require.NoError(t, lr.Apply(ctx, r))
			l.pingAll(t, 40*time.Second)
		})
	}
}

package wireguard_test

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn/openvpntest"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/wireguard"
)

// binds are what each router namespace gets privately: the driver's
// default directories, and wireguard-go's socket directory, which "wg"
// looks in and which would otherwise be shared by every namespace.
var binds = []string{"/etc/planetstage", "/run/planetstage", "/run/wireguard"}

func requireWireGuard(t *testing.T) {
	t.Helper()
	openvpntest.RequireNetns(t)
	for _, bin := range []string{"wg", "wireguard-go", "unshare"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s in PATH (apt-get install wireguard-go wireguard-tools)", bin)
		}
	}
	openvpntest.RequireMountPoints(t, binds...)
}

func router(m *wireguard.Model, k *wireguard.Keys, site string) *wireguard.Linux {
	// The sysctl file would go to this machine's /etc/sysctl.d: the
	// runner roots files, but not rm(1), in the namespace's directories.
	return &wireguard.Linux{Model: m, Keys: k, Site: site, SysctlFile: "-"}
}

// daemons lists the wireguard-go processes in namespace ns.
func daemons(t *testing.T, ns string) []string {
	t.Helper()
	out, _ := exec.Command("ip", "netns", "pids", ns).Output()
	var pids []string
	for _, p := range strings.Fields(string(out)) {
		comm, err := os.ReadFile("/proc/" + p + "/comm")
		if err == nil && strings.TrimSpace(string(comm)) == "wireguard-go" {
			pids = append(pids, p)
		}
	}
	slices.Sort(pids)
	return pids
}

func newModel(t *testing.T, spec tunnel.Spec, o wireguard.Options) *wireguard.Model {
	t.Helper()
	tm, err := tunnel.New(spec)
	require.NoError(t, err)
	m, err := wireguard.New(tm, o)
	require.NoError(t, err)
	return m
}

// TestRealWireGuard runs real WireGuard (the kernel's where it has the
// module, else wireguard-go) in network namespaces through the Linux
// driver, and pings every site's host and router from every other's.
func TestRealWireGuard(t *testing.T) {
	requireWireGuard(t)
	cases := []struct {
		name  string
		sites int
		mode  tunnel.Mode
		psk   bool
	}{
		{"mesh-3-psk", 3, tunnel.Mesh, true},
		{"hub-spoke-4", 4, tunnel.HubSpoke, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			l := openvpntest.New(t, tc.sites)
			runners := make([]*openvpntest.RootedRunner, tc.sites)
			for i := range runners {
				runners[i] = l.Rooted(i, binds...)
			}
			spec := tunnel.Spec{Sites: l.Sites, Mode: tc.mode, Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: wireguard.DefaultPort}
			if tc.mode == tunnel.HubSpoke {
				spec.Hub = l.Sites[1].Name // not the first site, to prove hub choice matters
			}
			opts := wireguard.Options{PresharedKey: tc.psk, Keepalive: 5}
			m := newModel(t, spec, opts)
			store := secret.NewDir(t.TempDir())
			keys, err := wireguard.LoadKeys(store, m)
			require.NoError(t, err)

			impl, err := wireguard.Probe(ctx, runners[0])
			require.NoError(t, err)
			require.NotEqual(t, wireguard.Unavailable, impl)
			t.Logf("implementation: %s", impl.Note())
			for i, s := range l.Sites {
				lr := router(m, keys, s.Name)
				d, err := lr.Inspect(ctx, runners[i])
				require.NoError(t, err)
				assert.False(t, d.InSync(), "fresh router %d must need changes", i)
				assert.False(t, d.Installed)
				assert.Contains(t, d.Reasons[0], "("+impl.Note()+")")
				require.NoError(t, lr.Apply(ctx, runners[i]), "apply router %d", i)
			}
			l.PingAll(t, 30*time.Second)
			confs, _ := filepath.Glob(filepath.Join(runners[0].Root, wireguard.DefaultDir, "wg*.conf"))
			require.NotEmpty(t, confs)
			for _, f := range confs {
				st, err := os.Stat(f)
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
			}
			// A real handshake: wg reports one for every tunnel of router 0.
			out, err := remote.Output(ctx, runners[0], "wg show all latest-handshakes")
			require.NoError(t, err)
			assert.Len(t, strings.Split(strings.TrimSpace(out), "\n"), len(m.TunnelsOf(l.Sites[0].Name)))
			assert.NotContains(t, out, "\t0\n", "every tunnel has had a handshake")

			// A second run changes nothing and keeps the daemons.
			pids := daemons(t, l.RouterNS(0))
			if impl == wireguard.Userspace {
				assert.Len(t, pids, len(m.TunnelsOf(l.Sites[0].Name)), "one wireguard-go per tunnel")
			}
			for i, s := range l.Sites {
				d, err := router(m, keys, s.Name).Inspect(ctx, runners[i])
				require.NoError(t, err)
				assert.True(t, d.InSync(), "router %d after apply: %v", i, d.Reasons)
				assert.True(t, d.Installed)
				require.NoError(t, router(m, keys, s.Name).Apply(ctx, runners[i]))
			}
			assert.Equal(t, pids, daemons(t, l.RouterNS(0)), "re-apply must not restart wireguard-go")

			if tc.mode == tunnel.HubSpoke {
				// spoke to spoke goes through the hub's tunnel
				out := openvpntest.Sh(t, "ip netns exec %s ip route get %s", l.RouterNS(0), l.Hosts[2])
				assert.Contains(t, out, "dev "+wireguard.Interface(m.TunnelsOf(l.Sites[0].Name)[0].Index))
			}

			// A router whose interfaces are gone (wireguard-go killed, or
			// a reboot) is brought back by its boot script alone, and a
			// second run of it changes nothing.
			for i := range l.Sites {
				openvpntest.Sh(t, "for d in $(ip -n %[1]s -br link | grep -o '^wg[0-9]*'); do ip -n %[1]s link del $d; done", l.RouterNS(i))
			}
			require.NotContains(t, openvpntest.Sh(t, "ip -n %s route", l.RouterNS(0)), "wg", "routes gone with their devices")
			require.Eventually(t, func() bool { return len(daemons(t, l.RouterNS(0))) == 0 }, 5*time.Second, 100*time.Millisecond,
				"wireguard-go ends with its interface")
			for i, s := range l.Sites {
				d, err := router(m, keys, s.Name).Inspect(ctx, runners[i])
				require.NoError(t, err)
				assert.False(t, d.InSync(), "router %d after the reboot", i)
				_, err = remote.CombinedOutput(ctx, runners[i], wireguard.DefaultBootScript)
				require.NoError(t, err, "boot script of router %d", i)
			}
			l.PingAll(t, 30*time.Second)
			for i, s := range l.Sites {
				before := daemons(t, l.RouterNS(i))
				_, err := remote.CombinedOutput(ctx, runners[i], wireguard.DefaultBootScript)
				require.NoError(t, err)
				assert.Equal(t, before, daemons(t, l.RouterNS(i)), "a second boot run keeps the daemons")
				d, err := router(m, keys, s.Name).Inspect(ctx, runners[i])
				require.NoError(t, err)
				assert.True(t, d.InSync(), "router %d after its boot script: %v", i, d.Reasons)
			}

			// A changed setting reconfigures the interfaces in place.
			opts.Keepalive = 7
			m2 := newModel(t, spec, opts)
			d, err := router(m2, keys, l.Sites[0].Name).Inspect(ctx, runners[0])
			require.NoError(t, err)
			assert.Contains(t, strings.Join(d.Reasons, "; "), "persistent keepalive differ")
			before := daemons(t, l.RouterNS(0))
			for i, s := range l.Sites {
				require.NoError(t, router(m2, keys, s.Name).Apply(ctx, runners[i]))
			}
			assert.Equal(t, before, daemons(t, l.RouterNS(0)), "a reconfiguration keeps the interfaces")
			l.PingAll(t, 30*time.Second)

			if tc.mode == tunnel.Mesh {
				// Mesh to hub-spoke: tunnels the new model lacks are
				// removed, with their daemons, and the sites still reach
				// each other.
				spec.Mode, spec.Hub = tunnel.HubSpoke, l.Sites[1].Name
				m3 := newModel(t, spec, opts)
				keys, err = wireguard.LoadKeys(store, m3) // a pre-shared key per new tunnel
				require.NoError(t, err)
				d, err = router(m3, keys, l.Sites[2].Name).Inspect(ctx, runners[2])
				require.NoError(t, err)
				assert.Equal(t, []string{"wg2"}, d.Stale)
				for i, s := range l.Sites {
					require.NoError(t, router(m3, keys, s.Name).Apply(ctx, runners[i]))
				}
				assert.NotContains(t, openvpntest.Sh(t, "ip -n %s -br link", l.RouterNS(2)), "wg2")
				if impl == wireguard.Userspace {
					assert.Eventually(t, func() bool { return len(daemons(t, l.RouterNS(2))) == 1 }, 5*time.Second, 100*time.Millisecond)
				}
				l.PingAll(t, 30*time.Second)
				m2 = m3
			}

			// Remove undoes everything, and a second Remove has nothing to do.
			for i, s := range l.Sites {
				lr := router(m2, keys, s.Name)
				reasons, err := lr.InspectRemove(ctx, runners[i])
				require.NoError(t, err)
				assert.NotEmpty(t, reasons)
				require.NoError(t, lr.Remove(ctx, runners[i]))
				reasons, err = lr.InspectRemove(ctx, runners[i])
				require.NoError(t, err)
				assert.Empty(t, reasons)
			}
			for i := range l.Sites {
				assert.NotContains(t, openvpntest.Sh(t, "ip -n %s -br link; ip -n %[1]s route", l.RouterNS(i)), "wg")
				assert.Eventually(t, func() bool { return len(daemons(t, l.RouterNS(i))) == 0 }, 5*time.Second, 100*time.Millisecond, "no wireguard-go left")
			}
			assert.Error(t, openvpntest.Ping(l.HostNS(0), l.Hosts[1], 2*time.Second), "no tunnel, no path")
		})
	}
}

package openvpn_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/openvpn/openvpntest"
	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/tunnel"
)

func linuxRouter(l *openvpntest.Lab, m *openvpn.Model, k *openvpn.Keys, i int) *openvpn.Linux {
	return &openvpn.Linux{
		Model: m, Keys: k, Site: l.Sites[i].Name,
		Dir: filepath.Join(l.Dirs[i], "etc"), RunDir: filepath.Join(l.Dirs[i], "run"), SysctlFile: "-",
		BootScript: filepath.Join(l.Dirs[i], "boot.d", "50-openvpn"),
	}
}

// TestRealOpenVPN renders the Linux routers' configs, runs real openvpn in
// network namespaces through the Linux driver, and pings every site's host
// from every other's.
func TestRealOpenVPN(t *testing.T) {
	openvpntest.RequireNetns(t)
	cases := []struct {
		name  string
		sites int
		mode  tunnel.Mode
		auth  openvpn.Auth
	}{
		{"mesh-2-tls", 2, tunnel.Mesh, openvpn.TLS},
		{"mesh-3-tls", 3, tunnel.Mesh, openvpn.TLS},
		{"mesh-3-static-key", 3, tunnel.Mesh, openvpn.StaticKey},
		{"hub-spoke-3-tls", 3, tunnel.HubSpoke, openvpn.TLS},
		{"hub-spoke-4-static-key", 4, tunnel.HubSpoke, openvpn.StaticKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			l := openvpntest.New(t, tc.sites)
			spec := tunnel.Spec{Sites: l.Sites, Mode: tc.mode, Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: 1194}
			opts := openvpn.Options{Auth: tc.auth, Keepalive: openvpn.Keepalive{Interval: 1, Restart: 5}}
			if tc.mode == tunnel.HubSpoke {
				spec.Hub = l.Sites[1].Name // not the first site, to prove hub choice matters
			}
			m := newModel(t, spec, opts)
			keys, err := openvpn.LoadKeys(secret.NewDir(t.TempDir()), m)
			require.NoError(t, err)

			for i := range l.Sites {
				lr, r := linuxRouter(l, m, keys, i), l.Router(i)
				d, err := lr.Inspect(ctx, r)
				require.NoError(t, err)
				assert.False(t, d.InSync(), "fresh router %d must need changes", i)
				assert.False(t, d.Installed)
				require.NoError(t, lr.Apply(ctx, r), "apply router %d", i)
			}
			l.PingAll(t, 30*time.Second)
			keyFiles, _ := filepath.Glob(filepath.Join(l.Dirs[0], "etc", "*.key"))
			require.NotEmpty(t, keyFiles)
			for _, f := range keyFiles {
				st, err := os.Stat(f)
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
			}

			// A second run changes nothing and keeps the daemons.
			pids := openvpntest.Sh(t, "cat %s/run/*.pid", l.Dirs[0])
			for i := range l.Sites {
				lr, r := linuxRouter(l, m, keys, i), l.Router(i)
				d, err := lr.Inspect(ctx, r)
				require.NoError(t, err)
				assert.True(t, d.InSync(), "router %d after apply: %v", i, d.Reasons)
				assert.True(t, d.Installed)
				require.NoError(t, lr.Apply(ctx, r))
			}
			assert.Equal(t, pids, openvpntest.Sh(t, "cat %s/run/*.pid", l.Dirs[0]), "re-apply must not restart openvpn")

			if tc.mode == tunnel.HubSpoke {
				// spoke to spoke goes through the hub's tunnel
				out := openvpntest.Sh(t, "ip netns exec %s ip route get %s", l.RouterNS(0), l.Hosts[2])
				assert.Contains(t, out, "dev "+openvpn.Interface(m.TunnelsOf(l.Sites[0].Name)[0].Index))
			}

			// A router whose openvpn died is repaired by the next apply, and
			// its peers reconnect by themselves.
			lr, r := linuxRouter(l, m, keys, 0), l.Router(0)
			openvpntest.Sh(t, "kill $(cat %s/run/*.pid)", l.Dirs[0])
			// SIGTERM is not instant: under load a daemon may take seconds to
			// go, so wait for the drift rather than race it, and say what was
			// seen last when it never comes.
			require.EventuallyWithT(t, func(c *assert.CollectT) {
				d, err := lr.Inspect(ctx, r)
				if assert.NoError(c, err) {
					assert.False(c, d.InSync(), "router 0 still in sync after its daemons were killed")
				}
			}, 30*time.Second, 200*time.Millisecond)
			require.NoError(t, lr.Apply(ctx, r))
			l.PingAll(t, 40*time.Second)

			// A reboot, as far as a namespace allows: every daemon killed,
			// every tunnel device (and with it its routes) gone. The boot
			// script alone brings the tunnels and routes back, and a second
			// run of it changes nothing.
			for i := range l.Sites {
				openvpntest.Sh(t, "kill $(cat %s/run/*.pid); for d in $(ip -n %s -br link | grep -o '^vtun[0-9]*'); do ip -n %[2]s link del $d; done", l.Dirs[i], l.RouterNS(i))
			}
			require.NotContains(t, openvpntest.Sh(t, "ip -n %s route", l.RouterNS(0)), "vtun", "routes gone with their devices")
			for i := range l.Sites {
				lr := linuxRouter(l, m, keys, i)
				d, err := lr.Inspect(ctx, l.Router(i))
				require.NoError(t, err)
				assert.False(t, d.InSync(), "router %d after the reboot", i)
				st, err := os.Stat(lr.BootScript)
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o755), st.Mode().Perm())
				openvpntest.Sh(t, "ip netns exec %s %s", l.RouterNS(i), lr.BootScript)
			}
			l.PingAll(t, 40*time.Second)
			for i := range l.Sites {
				lr, r := linuxRouter(l, m, keys, i), l.Router(i)
				before := openvpntest.Sh(t, "cat %s/run/*.pid", l.Dirs[i])
				openvpntest.Sh(t, "ip netns exec %s %s", l.RouterNS(i), lr.BootScript)
				assert.Equal(t, before, openvpntest.Sh(t, "cat %s/run/*.pid", l.Dirs[i]), "a second boot run keeps the daemons")
				d, err := lr.Inspect(ctx, r)
				require.NoError(t, err)
				assert.True(t, d.InSync(), "router %d after its boot script: %v", i, d.Reasons)
			}

			// A changed config restarts exactly the daemons whose files changed.
			opts.Keepalive.Restart = 6
			m2 := newModel(t, spec, opts)
			lr = linuxRouter(l, m2, keys, 0)
			d, err := lr.Inspect(ctx, r)
			require.NoError(t, err)
			assert.Contains(t, d.Reasons[0], "restart openvpn vtun")
			before := openvpntest.Sh(t, "cat %s/run/*.pid", l.Dirs[0])
			require.NoError(t, lr.Apply(ctx, r))
			assert.NotEqual(t, before, openvpntest.Sh(t, "cat %s/run/*.pid", l.Dirs[0]))
			for i := 1; i < len(l.Sites); i++ {
				require.NoError(t, linuxRouter(l, m2, keys, i).Apply(ctx, l.Router(i)))
			}
			l.PingAll(t, 40*time.Second)

			if tc.name == "mesh-2-tls" {
				// Remove undoes everything, and a second Remove has nothing to do.
				for i := range l.Sites {
					lr := linuxRouter(l, m2, keys, i)
					reasons, err := lr.InspectRemove(ctx, l.Router(i))
					require.NoError(t, err)
					assert.NotEmpty(t, reasons)
					require.NoError(t, lr.Remove(ctx, l.Router(i)))
					reasons, err = lr.InspectRemove(ctx, l.Router(i))
					require.NoError(t, err)
					assert.Empty(t, reasons)
				}
				assert.NotContains(t, openvpntest.Sh(t, "ip -n %s -br link", l.RouterNS(0)), "vtun")
				assert.Error(t, openvpntest.Ping(l.HostNS(0), l.Hosts[1], 2*time.Second), "no tunnel, no path")
			}
			if tc.name != "mesh-3-tls" {
				return
			}
			// Mesh to hub-spoke: tunnels the new model lacks are stopped,
			// their devices removed, and the sites still reach each other.
			spec.Mode, spec.Hub = tunnel.HubSpoke, l.Sites[1].Name
			m3 := newModel(t, spec, opts)
			d, err = linuxRouter(l, m3, keys, 2).Inspect(ctx, l.Router(2))
			require.NoError(t, err)
			assert.Equal(t, []string{"vtun2"}, d.Stale)
			for i := range l.Sites {
				require.NoError(t, linuxRouter(l, m3, keys, i).Apply(ctx, l.Router(i)))
			}
			out := openvpntest.Sh(t, "ip -n %s -br link; ls %s/run", l.RouterNS(2), l.Dirs[2])
			assert.NotContains(t, out, "vtun2")
			l.PingAll(t, 40*time.Second)
			for i := range l.Sites {
				d, err := linuxRouter(l, m3, keys, i).Inspect(ctx, l.Router(i))
				require.NoError(t, err)
				assert.True(t, d.InSync(), "router %d: %v", i, d.Reasons)
			}
		})
	}
}

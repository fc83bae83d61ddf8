package labtest_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/lab/labtest"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/vyos"
)

// wireGuardMixed is mixed (vyos_test.go) carried by WireGuard, with
// pre-shared keys, in mode (the hub, when hub-spoke, is VyOS 1.3's site).
func wireGuardMixed(mode string) string {
	hub := ""
	if mode == "hub-spoke" {
		hub = ", hub: s13"
	}
	return `apiVersion: planetstage.io/v1alpha1
kind: Topology
name: vwg
underlay: {prefix: 10.41.0.0/16}
sites:
- {name: s12, vlan: 10, prefix: 172.41.10.0/24, router: {name: vwg12, kind: vyos, version: "1.2", wan: 10.41.0.90, lan: 172.41.10.1}, hosts: [{name: h12, address: 172.41.10.101, role: generic}]}
- {name: s13, vlan: 20, prefix: 172.41.20.0/24, router: {name: vwg13, kind: vyos, version: "1.3", wan: 10.41.0.91, lan: 172.41.20.1}, hosts: [{name: h13, address: 172.41.20.101, role: generic}]}
- {name: s14, vlan: 30, prefix: 172.41.30.0/24, router: {name: vwg14, kind: vyos, version: "1.4", wan: 10.41.0.92, lan: 172.41.30.1}, hosts: [{name: h14, address: 172.41.30.101, role: generic}]}
- {name: s15, vlan: 40, prefix: 172.41.40.0/24, router: {name: vwg15, kind: vyos, version: "1.5", wan: 10.41.0.93, lan: 172.41.40.1}, hosts: [{name: h15, address: 172.41.40.101, role: generic}]}
- {name: sl, vlan: 50, prefix: 172.41.50.0/24, router: {name: vwgl, kind: linux, wan: 10.41.0.94, lan: 172.41.50.1}, hosts: [{name: hl, address: 172.41.50.101, role: generic}]}
vpn: {type: wireguard, mode: ` + mode + hub + `, transit: 10.255.0.0/16, wireguard: {presharedKey: true}}
`
}

// Routers of every VyOS version, in the stand-in, and a Linux router
// join by WireGuard, hub-spoke and mesh: every machine reaches every
// other, a second apply changes nothing, each VyOS router runs one
// WireGuard interface per tunnel (wireguard-go: this kernel has no
// module), and no key reaches the stand-in's log. Two labs of 10
// containers, minutes, so it runs when PLANETSTAGE_HEAVY_TESTS=1 (CI's
// heavy step).
func TestVyOSStandinWireGuard(t *testing.T) {
	if os.Getenv("PLANETSTAGE_HEAVY_TESTS") != "1" {
		t.Skip("two labs of 10 containers: set PLANETSTAGE_HEAVY_TESTS=1 to run (minutes)")
	}
	if os.Getenv(lab.EnvVyOSImage) != "" {
		t.Skipf("%s is set: routers of kind vyos run that image, not the stand-in", lab.EnvVyOSImage)
	}
	for _, mode := range []string{"hub-spoke", "mesh"} {
		t.Run(mode, func(t *testing.T) {
			topo, err := topology.Parse("vwg.yaml", []byte(wireGuardMixed(mode)))
			require.NoError(t, err)
			l := labtest.Up(t, topo, lab.Options{})
			ctx := t.Context()
			assert.Contains(t, strings.Join(l.Notes(), "\n"), "router vwg12 (VyOS 1.2) runs in the VyOS stand-in, not VyOS")

			m, err := l.Matrix(ctx)
			require.NoError(t, err)
			assert.Empty(t, m.Unreachable(), "every pair through the tunnels:\n%s", m.Table())

			// The second apply changes nothing: no step, and no
			// wireguard-go restarted.
			vyosRouters := []string{"vwg12", "vwg13", "vwg14", "vwg15"}
			daemons := func() map[string]string {
				out := map[string]string{}
				for _, name := range vyosRouters {
					r, err := l.Dial(ctx, name)
					require.NoError(t, err)
					out[name], err = remote.Output(ctx, r, "pgrep -a wireguard-go | sort")
					require.NoError(t, err)
				}
				return out
			}
			before := daemons()
			res, err := l.Apply(ctx, lab.ApplyOptions{})
			require.NoError(t, err)
			for _, s := range res.Steps {
				assert.Equal(t, plan.NoOp, s.Action, "second apply changed %s: %s", s.ID, s.Reason)
			}
			assert.Equal(t, before, daemons(), "the second apply restarted a wireguard-go")

			for _, name := range vyosRouters {
				tunnels := 4 // mesh; hub-spoke: the hub's four, a spoke's one
				if mode == "hub-spoke" && name != "vwg13" {
					tunnels = 1
				}
				r, err := l.Dial(ctx, name)
				require.NoError(t, err)
				running, err := vyos.Running(ctx, r)
				require.NoError(t, err)
				var lines, keys []string
				for _, c := range running {
					lines = append(lines, c.Redacted())
					if c.IsSecret() && len(c.Path[len(c.Path)-1]) == 44 { // a base64 key, not 1.3's keypair name
						keys = append(keys, c.Path[len(c.Path)-1])
					}
				}
				read := strings.Join(lines, "\n")
				assert.Len(t, regexp.MustCompile(`(?m)^set interfaces wireguard wg[0-9]+ port [0-9]+$`).FindAllString(read, -1), tunnels, "%s:\n%s", name, read)
				procs, err := remote.Output(ctx, r, "ps -eo args | grep -c '^wireguard-go --foreground wg' || true")
				require.NoError(t, err)
				assert.Equal(t, fmt.Sprint(tunnels), strings.TrimSpace(procs), "%s: one wireguard-go per tunnel", name)
				dump, err := remote.Output(ctx, r, "wg show all latest-handshakes")
				require.NoError(t, err)
				assert.Len(t, regexp.MustCompile(`(?m)\t[1-9][0-9]*$`).FindAllString(dump, -1), tunnels, "%s: a handshake on every tunnel:\n%s", name, dump)
				routes, err := remote.Output(ctx, r, "ip route show")
				require.NoError(t, err)
				assert.Regexp(t, `(?m)^172\.41\.[0-9]+\.0/24 dev wg[0-9]+ `, routes, name)
				log, err := remote.Output(ctx, r, "cat /var/log/vyos-standin/vbash.log")
				require.NoError(t, err)
				assert.Contains(t, log, "committed", name)
				// 1.2 and 1.3 keep the private key in a file; every
				// version carries the pre-shared keys in the config.
				if name == "vwg12" || name == "vwg13" {
					file, err := remote.Output(ctx, r, "cat /config/auth/wireguard/private.key /config/auth/wireguard/planetstage-*/private.key 2>/dev/null || true")
					require.NoError(t, err)
					keys = append(keys, strings.Fields(file)...)
				}
				require.NotEmpty(t, keys, name)
				for _, k := range keys {
					assert.NotContains(t, log, k, "%s: a key in the stand-in's log", name)
				}
			}

			// A router that crashes comes back with its tunnels from what
			// it saved (1.2's and 1.3's keys from their files): the hub,
			// which every spoke's traffic crosses, or 1.2's in the mesh.
			restart, site, from := "vwg13", "172.41.20.101", "h12"
			if mode == "mesh" {
				restart, site, from = "vwg12", "172.41.10.101", "hl"
			}
			killed := time.Now()
			require.NoError(t, l.Kill(ctx, restart))
			require.NoError(t, l.Start(ctx, restart))
			host, err := l.Exec(from)
			require.NoError(t, err)
			assert.Eventually(t, func() bool {
				_, err := remote.Output(ctx, host, "ping -c1 -W1 "+site)
				return err == nil
			}, 2*time.Minute, time.Second, "%s is not reachable from %s again after %s restarted", site, from, restart)
			t.Logf("%s reached from %s %s after %s was killed", site, from, time.Since(killed).Round(time.Second), restart)
		})
	}
}

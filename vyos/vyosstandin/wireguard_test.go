package vyosstandin_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/vyos"
	"github.com/planetstage/planetstage/wireguard"
)

// wireGuardSetup is vyos01's configuration of the thesis mesh carried by
// WireGuard in dialect d, with pre-shared keys, and the keys.
func wireGuardSetup(t *testing.T, d vyos.Dialect) (*vyos.Config, *wireguard.Keys) {
	t.Helper()
	var sites []tunnel.Site
	for i := range 3 {
		lan := netip.AddrFrom4([4]byte{192, 168, byte(10 * (i + 1)), 1})
		sites = append(sites, tunnel.Site{Name: fmt.Sprintf("site-%c", 'a'+i), Router: fmt.Sprintf("vyos%02d", i+1),
			WAN: netip.AddrFrom4([4]byte{10, 4, 0, byte(90 + i)}), LAN: lan, Prefix: netip.PrefixFrom(lan, 24).Masked()})
	}
	tm, err := tunnel.New(tunnel.Spec{Sites: sites, Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: 51820})
	require.NoError(t, err)
	m, err := wireguard.New(tm, wireguard.Options{PresharedKey: true})
	require.NoError(t, err)
	k, err := wireguard.LoadKeys(secret.NewDir(t.TempDir()), m)
	require.NoError(t, err)
	c, err := vyos.BuildWireGuard(vyos.WireGuardRouter{Model: m, Keys: k, Site: "site-a", Dialect: d, Underlay: netip.MustParsePrefix("10.4.0.0/16")})
	require.NoError(t, err)
	return c, k
}

func runsWith(runs []string, prefix string) []string {
	var out []string
	for _, r := range runs {
		if strings.HasPrefix(r, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// Every version's WireGuard syntax is realised: package vyos's Apply
// commits it, the stand-in makes each wgN (the kernel's where it can make
// one, else wireguard-go) with the private key, port and peer VyOS would
// configure, sets its address and routes; a second Apply changes nothing,
// a changed peer is loaded in place with wg syncconf, a deleted interface
// is removed (its wireguard-go stopped), and no key reaches the log.
func TestWireGuardRealised(t *testing.T) {
	t.Parallel()
	for _, d := range vyos.Dialects {
		for _, impl := range []string{"kernel", "wireguard-go"} {
			t.Run(string(d)+" "+impl, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				r, sys := newStandin(t, d)
				var log strings.Builder
				r.Log = newTextLogger(&log)
				if impl == "wireguard-go" {
					sys.failRun = "type wireguard" // a kernel without the module
				}
				c, k := wireGuardSetup(t, d)
				runner := standinRunner{r: r}
				require.NoError(t, vyos.Apply(ctx, runner, c, vyos.Options{}))

				priv := k.Private["vyos01"]
				pub2, _ := k.Public("vyos02")
				conf, err := os.ReadFile(filepath.Join(r.Root, "run/vyos-standin/wireguard/wg0.conf"))
				require.NoError(t, err)
				fi, err := os.Stat(filepath.Join(r.Root, "run/vyos-standin/wireguard/wg0.conf"))
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
				var psk string
				for _, cmd := range c.Commands {
					if p := cmd.Path; len(p) == 7 && p[2] == "wg0" && p[5] == "preshared-key" {
						psk = p[6]
					}
				}
				require.NotEmpty(t, psk)
				assert.Equal(t, "[Interface]\nPrivateKey = "+priv.String()+"\nListenPort = 51820\n\n[Peer]\n# vyos02\nPublicKey = "+pub2.String()+
					"\nPresharedKey = "+psk+"\nAllowedIPs = 10.255.0.2/32, 192.168.20.0/24\nEndpoint = 10.4.0.91:51820\nPersistentKeepalive = 25\n", string(conf))

				confPath := filepath.Join(r.Root, "run/vyos-standin/wireguard/wg0.conf")
				if impl == "kernel" {
					assert.Contains(t, sys.runs, "ip link add wg0 type wireguard")
					assert.Contains(t, sys.runs, "ip link add wg1 type wireguard")
					assert.Empty(t, sys.starts)
				} else {
					assert.Equal(t, []string{"wireguard wg0", "wireguard wg1"}, sorted(sys.starts))
					assert.Equal(t, []string{"wireguard-go", "--foreground", "wg0"}, sys.daemons["wireguard wg0"])
					assert.Empty(t, runsWith(sys.runs, "ip link add wg0"))
				}
				assert.Contains(t, sys.runs, "wg setconf wg0 "+confPath)
				assert.Contains(t, sys.runs, "ip link set wg0 up")
				assert.Contains(t, sys.runs, "ip addr replace 10.255.0.1/30 dev wg0")
				routeArgs := "ip route replace 192.168.20.0/24 dev wg0"
				assert.Contains(t, sys.runs, routeArgs)

				// Unchanged: nothing is made or loaded again.
				sys.reset()
				drift, err := vyos.Inspect(ctx, runner, c)
				require.NoError(t, err)
				assert.True(t, drift.InSync(), "second apply would change: %v", drift.Reasons())
				require.NoError(t, vyos.Apply(ctx, runner, c, vyos.Options{}))
				out, st := run(t, r, template+"configure\nset interfaces wireguard wg0 description x\ncommit\nexit\n")
				require.Equal(t, 0, st, out)
				assert.Empty(t, sys.starts)
				assert.Empty(t, sys.stops)
				assert.Empty(t, append(runsWith(sys.runs, "ip link add wg0"), runsWith(sys.runs, "ip link add wg1")...))
				assert.Empty(t, runsWith(sys.runs, "wg "), "an unchanged WireGuard configuration is not loaded again")

				// A changed peer: loaded in place; a deleted interface:
				// removed with its address and routes.
				sys.reset()
				script := template + "configure\nset interfaces wireguard wg0 peer vyos02 persistent-keepalive 20\ndelete interfaces wireguard wg1\n"
				for _, cmd := range c.Commands {
					if p := cmd.Path; p[0] == "protocols" && p[len(p)-1] == "wg1" {
						script += "delete " + strings.Join(p[:4], " ") + "\n"
					}
				}
				out, st = run(t, r, script+"commit\nexit\n")
				require.Equal(t, 0, st, out)
				assert.Equal(t, []string{"wg syncconf wg0 " + confPath}, runsWith(sys.runs, "wg "))
				assert.Empty(t, append(runsWith(sys.runs, "ip link add wg0"), runsWith(sys.runs, "ip link add wg1")...))
				assert.Contains(t, sys.runs, "ip addr del 10.255.0.5/30 dev wg1")
				assert.Contains(t, sys.runs, "ip route del 192.168.30.0/24 dev wg1")
				if impl == "kernel" {
					assert.Contains(t, sys.runs, "ip link del wg1")
					assert.Empty(t, sys.stops)
				} else {
					assert.Equal(t, []string{"wireguard wg1"}, sys.stops, "only the deleted interface's wireguard-go stops")
				}
				conf, err = os.ReadFile(confPath)
				require.NoError(t, err)
				assert.Contains(t, string(conf), "PersistentKeepalive = 20\n")
				assert.False(t, sys.LinkExists("wg1"))
				assert.True(t, sys.LinkExists("wg0"))

				// No key material in the log.
				assert.Contains(t, log.String(), "wg syncconf")
				for _, secret := range []string{priv.String(), psk} {
					assert.NotContains(t, log.String(), secret)
				}
			})
		}
	}
}

// A 1.3 interface whose named keypair has no key file, or a 1.2 router
// without its default keypair, fails the commit and is not realised.
func TestWireGuardWithoutKeyFails(t *testing.T) {
	t.Parallel()
	for _, d := range []vyos.Dialect{vyos.V12, vyos.V13} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			r, sys := newStandin(t, d)
			c, _ := wireGuardSetup(t, d)
			var script strings.Builder
			script.WriteString(template + "configure\n")
			for _, cmd := range c.Commands {
				fmt.Fprintf(&script, "set %s\n", strings.Join(cmd.Path, " "))
			}
			script.WriteString("commit\n")
			out, st := run(t, r, script.String())
			assert.NotEqual(t, 0, st, out)
			assert.Contains(t, out, "/config/auth/wireguard/")
			assert.Contains(t, out, "does not exist")
			assert.Contains(t, out, "Commit failed")
			assert.Empty(t, runsWith(sys.runs, "wg "))
		})
	}
}

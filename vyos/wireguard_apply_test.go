package vyos

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/wireguard"
)

// wireGuardConfig builds vyos01's configuration for the thesis mesh
// carried by WireGuard, with pre-shared keys.
func wireGuardConfig(t *testing.T, d Dialect) *Config {
	t.Helper()
	var sites []tunnel.Site
	for i := range 3 {
		lan := netip.AddrFrom4([4]byte{192, 168, byte(10 * (i + 1)), 1})
		sites = append(sites, tunnel.Site{Name: fmt.Sprintf("site-%c", 'a'+i), Router: fmt.Sprintf("vyos%02d", i+1),
			WAN: netip.AddrFrom4([4]byte{10, 4, 0, byte(90 + i)}), LAN: lan, Prefix: netip.PrefixFrom(lan, 24).Masked()})
	}
	tm, err := tunnel.New(tunnel.Spec{Sites: sites, Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: 1194})
	require.NoError(t, err)
	m, err := wireguard.New(tm, wireguard.Options{PresharedKey: true})
	require.NoError(t, err)
	k, err := wireguard.LoadKeys(secret.NewDir(t.TempDir()), m)
	require.NoError(t, err)
	c, err := BuildWireGuard(WireGuardRouter{Model: m, Keys: k, Site: "site-a", Dialect: d, Underlay: netip.MustParsePrefix("10.4.0.0/16")})
	require.NoError(t, err)
	return c
}

func runningUnder(f *fakeVyOS, prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, l := range f.running {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func fileNames(f *fakeVyOS) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for p := range f.files {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Switching a router from OpenVPN to WireGuard and back by applying the
// other kind's configuration leaves nothing of the first behind: no
// interface, pki entry or key file; a re-apply then changes nothing, and
// Remove takes the rest.
func TestWireGuardSwitchOnVyOS(t *testing.T) {
	t.Parallel()
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			f := newFakeVyOS(d)
			f.running = []string{"system host-name vyos", "service ssh port 22"}
			r := dialFake(t, f)
			ovpn := thesisConfig(t, d, openvpn.StaticKey)
			require.NoError(t, Apply(ctx, r, ovpn, Options{}))
			require.NotEmpty(t, runningUnder(f, "interfaces openvpn"))

			wg := wireGuardConfig(t, d)
			drift, err := Inspect(ctx, r, wg)
			require.NoError(t, err)
			assert.True(t, drift.Installed, "the OpenVPN tunnels count as installed tunnels")
			require.NoError(t, Apply(ctx, r, wg, Options{}))
			assert.Empty(t, runningUnder(f, "interfaces openvpn"), "no OpenVPN interface left")
			assert.Empty(t, runningUnder(f, "pki openvpn"), "no static key left")
			assert.Len(t, runningUnder(f, "interfaces wireguard wg"), len(keysUnder(wg.Commands, "interfaces wireguard")))
			for _, p := range fileNames(f) {
				assert.False(t, strings.HasPrefix(p, filePref), "OpenVPN file %s left", p)
			}
			drift, err = Inspect(ctx, r, wg)
			require.NoError(t, err)
			assert.True(t, drift.InSync(), "%v", drift.Reasons())
			for _, reason := range drift.Reasons() {
				assert.NotContains(t, reason, "preshared")
			}

			// And back.
			require.NoError(t, Apply(ctx, r, ovpn, Options{}))
			assert.Empty(t, runningUnder(f, "interfaces wireguard"), "no WireGuard interface left")
			drift, err = Inspect(ctx, r, ovpn)
			require.NoError(t, err)
			assert.True(t, drift.InSync(), "%v", drift.Reasons())
			if d == V13 {
				for _, p := range fileNames(f) {
					assert.False(t, strings.HasPrefix(p, wgKeyDir), "1.3 WireGuard key %s left", p)
				}
			}

			// WireGuard again, then Remove: nothing of either is left.
			require.NoError(t, Apply(ctx, r, wg, Options{}))
			require.NoError(t, Remove(ctx, r, wg, Options{}))
			reasons, err := InspectRemove(ctx, r, wg)
			require.NoError(t, err)
			assert.Empty(t, reasons)
			assert.Empty(t, runningUnder(f, "interfaces wireguard"))
			assert.Empty(t, runningUnder(f, "protocols static"))
			assert.Empty(t, fileNames(f), "key files removed")
		})
	}
}

func keysUnder(cmds []Command, prefix string) []string {
	var out []string
	for _, c := range cmds {
		if k := c.key(); strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

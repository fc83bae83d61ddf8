package vyos_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/vyos"
	"github.com/planetstage/planetstage/wireguard"
)

func wgModel(t *testing.T, spec tunnel.Spec, o wireguard.Options) (*wireguard.Model, *wireguard.Keys) {
	t.Helper()
	tm, err := tunnel.New(spec)
	require.NoError(t, err)
	m, err := wireguard.New(tm, o)
	require.NoError(t, err)
	k, err := wireguard.LoadKeys(secret.NewDir(t.TempDir()), m)
	require.NoError(t, err)
	return m, k
}

// wgHash matches the key hashes in 1.2 descriptions and 1.3 keypair names.
var wgHash = regexp.MustCompile(`(planetstage key |planetstage-)[0-9a-f]{8}`)

// normalizeWG replaces the public keys (which differ between runs) with
// markers; secrets are already redacted.
func normalizeWG(s string, k *wireguard.Keys) string {
	for router := range k.Private {
		pub, _ := k.Public(router)
		s = strings.ReplaceAll(s, pub.String(), "<public key of "+router+">")
	}
	return wgHash.ReplaceAllString(s, "${1}<hash>")
}

// TestWireGuardGolden renders WireGuard tunnels for every dialect: the
// golden files are what each VyOS version is sent, checked against the
// schema from VyOS's own interface definitions by BuildWireGuard.
func TestWireGuardGolden(t *testing.T) {
	t.Parallel()
	transit := netip.MustParsePrefix("10.255.0.0/16")
	underlay := netip.MustParsePrefix("10.4.0.0/16")
	cases := []struct {
		name string
		spec tunnel.Spec
		o    wireguard.Options
	}{
		{"wireguard-thesis-psk", tunnel.Spec{Sites: thesisSites(3), Mode: tunnel.Mesh, Transit: transit, Port: 51820}, wireguard.Options{PresharedKey: true}},
		{"wireguard-hub-spoke-4", tunnel.Spec{Sites: thesisSites(4), Mode: tunnel.HubSpoke, Hub: "site-b", Transit: transit, Port: 51820}, wireguard.Options{Keepalive: 10}},
	}
	for _, d := range vyos.Dialects {
		for _, tc := range cases {
			t.Run(string(d)+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				m, k := wgModel(t, tc.spec, tc.o)
				var b strings.Builder
				for _, s := range tc.spec.Sites {
					cfg, err := vyos.BuildWireGuard(vyos.WireGuardRouter{Model: m, Keys: k, Site: s.Name, Dialect: d, Underlay: underlay})
					require.NoError(t, err)
					out := vyos.Render(cfg, false)
					for _, priv := range k.Private {
						assert.NotContains(t, out, priv.String(), "private keys are redacted")
					}
					for _, psk := range k.Preshared {
						assert.NotContains(t, out, psk.String(), "pre-shared keys are redacted")
					}
					shown := vyos.Render(cfg, true)
					priv := k.Private[s.Router]
					assert.Contains(t, shown, priv.String(), "shown with showSecrets, in a file (1.2/1.3) or a command (1.4+)")
					b.WriteString(out + "\n")
				}
				got := normalizeWG(b.String(), k)
				path := filepath.Join("testdata", "v"+string(d), tc.name+".golden")
				if *update {
					require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
				}
				want, err := os.ReadFile(path)
				require.NoError(t, err, "run go test ./vyos -run TestWireGuardGolden -update")
				assert.Equal(t, string(want), got)
			})
		}
	}
}

// A version that cannot do what is asked is an error naming what.
func TestWireGuardVersionLimits(t *testing.T) {
	t.Parallel()
	underlay := netip.MustParsePrefix("10.4.0.0/16")
	spec := tunnel.Spec{Sites: thesisSites(2), Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: 500}
	m, k := wgModel(t, spec, wireguard.Options{})
	_, err := vyos.BuildWireGuard(vyos.WireGuardRouter{Model: m, Keys: k, Site: "site-a", Dialect: vyos.V12, Underlay: underlay})
	require.Error(t, err, "1.2 listens on 1024-65535 only")
	assert.Contains(t, err.Error(), `value "500" of "port": want 1024-65535`)
	for _, d := range []vyos.Dialect{vyos.V13, vyos.V14, vyos.V15} {
		_, err := vyos.BuildWireGuard(vyos.WireGuardRouter{Model: m, Keys: k, Site: "site-a", Dialect: d, Underlay: underlay})
		assert.NoError(t, err, "VyOS %s takes port 500", d)
	}

	spec.Port = 51820
	m, k = wgModel(t, spec, wireguard.Options{})
	latency := map[string]time.Duration{"site-b": 40 * time.Millisecond}
	for _, d := range vyos.Dialects {
		cfg, err := vyos.BuildWireGuard(vyos.WireGuardRouter{Model: m, Keys: k, Site: "site-a", Dialect: d, Underlay: underlay, Latency: latency})
		if d == vyos.V12 || d == vyos.V13 {
			require.Error(t, err)
			assert.Contains(t, err.Error(), "latency on WireGuard tunnels needs VyOS 1.4+")
			continue
		}
		require.NoError(t, err)
		assert.Contains(t, vyos.Render(cfg, false), "set qos interface wg0 egress planetstage-40ms")
	}
}

// The schema knows each version's WireGuard words and no other's.
func TestWireGuardSchema(t *testing.T) {
	t.Parallel()
	key := "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE="
	cases := []struct {
		d    vyos.Dialect
		path string
		ok   bool
	}{
		{vyos.V12, "interfaces wireguard wg0 peer r1 pubkey " + key, true},
		{vyos.V12, "interfaces wireguard wg0 peer r1 endpoint 10.4.0.91:51820", true},
		{vyos.V12, "interfaces wireguard wg0 peer r1 address 10.4.0.91", false},
		{vyos.V12, "interfaces wireguard wg0 private-key " + key, false},
		{vyos.V13, "interfaces wireguard wg0 peer r1 endpoint 10.4.0.91:51820", false},
		{vyos.V13, "interfaces wireguard wg0 peer r1 address 10.4.0.91", true},
		{vyos.V13, "interfaces wireguard wg0 private-key planetstage-0a1b2c3d", true},
		{vyos.V14, "interfaces wireguard wg0 peer r1 pubkey " + key, false},
		{vyos.V14, "interfaces wireguard wg0 peer r1 public-key " + key, true},
		{vyos.V14, "interfaces wireguard wg0 private-key not-a-key", false},
		{vyos.V15, "interfaces wireguard wg0 peer r1 persistent-keepalive 0", false},
		{vyos.V15, "interfaces wireguard vtun0 port 51820", false},
	}
	for _, tc := range cases {
		// A whole interface around the path under test, so that only the
		// path can fail.
		cmds := vyos.ParseCommands("set " + tc.path)
		err := vyos.Validate(tc.d, cmds)
		if tc.ok {
			// Alone the path misses the interface's other nodes; only the
			// schema check matters here.
			if err != nil {
				assert.NotContains(t, err.Error(), "unknown node", "%s: %s", tc.d, tc.path)
				assert.NotContains(t, err.Error(), "value", "%s: %s", tc.d, tc.path)
			}
			continue
		}
		require.Error(t, err, "%s: %s", tc.d, tc.path)
		assert.Regexp(t, `unknown node|value|invalid secret value`, strings.Split(err.Error(), "\n")[0],
			"%s: %s must fail the schema, not only the cross-checks", tc.d, tc.path)
	}
}

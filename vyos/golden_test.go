package vyos_test

import (
	"encoding/base64"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/vyos"
)

// authHash matches the content hash in /config/auth file names.
var authHash = regexp.MustCompile(`-[0-9a-f]{8}\.(crt|key)`)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// thesisSites returns n sites shaped like the thesis: vyos01… with WAN
// 10.4.0.90+i and site prefix 192.168.10*(i+1).0/24.
func thesisSites(n int) []tunnel.Site {
	var out []tunnel.Site
	for i := range n {
		lan := netip.AddrFrom4([4]byte{192, 168, byte(10 * (i + 1)), 1})
		out = append(out, tunnel.Site{
			Name: fmt.Sprintf("site-%c", 'a'+i), Router: fmt.Sprintf("vyos%02d", i+1),
			WAN: netip.AddrFrom4([4]byte{10, 4, 0, byte(90 + i)}), LAN: lan, Prefix: netip.PrefixFrom(lan, 24).Masked(),
		})
	}
	return out
}

// model allocates the tunnels of spec, carries them with OpenVPN and o,
// and creates their keys.
func model(t *testing.T, spec tunnel.Spec, o openvpn.Options) (*openvpn.Model, *openvpn.Keys) {
	t.Helper()
	tm, err := tunnel.New(spec)
	require.NoError(t, err)
	m, err := openvpn.New(tm, o)
	require.NoError(t, err)
	k, err := openvpn.LoadKeys(secret.NewDir(t.TempDir()), m)
	require.NoError(t, err)
	return m, k
}

// normalize replaces what differs between runs (certificates and their
// fingerprints; secrets are already redacted) with stable markers.
func normalize(s string, k *openvpn.Keys) string {
	for router, c := range k.Certs {
		s = strings.ReplaceAll(s, c.Fingerprint, "<fingerprint of "+router+">")
		s = strings.ReplaceAll(s, base64.StdEncoding.EncodeToString(c.DER()), "<certificate of "+router+">")
		pem := strings.TrimSuffix(string(c.CertPEM), "\n")
		s = strings.ReplaceAll(s, strings.ReplaceAll(pem, "\n", "\n#   "), "<certificate of "+router+" (PEM)>")
	}
	return authHash.ReplaceAllString(s, "-<hash>.$1")
}

func TestGolden(t *testing.T) {
	t.Parallel()
	transit := netip.MustParsePrefix("10.255.0.0/16")
	underlay := netip.MustParsePrefix("10.4.0.0/16")
	cases := []struct {
		name    string
		spec    tunnel.Spec
		auth    openvpn.Auth
		latency map[string]map[string]time.Duration // site -> peer site -> one-way delay
	}{
		{"thesis-tls", tunnel.Spec{Sites: thesisSites(3), Mode: tunnel.Mesh, Transit: transit, Port: 1194}, openvpn.TLS, nil},
		{"thesis-static-key", tunnel.Spec{Sites: thesisSites(3), Mode: tunnel.Mesh, Transit: transit, Port: 1194}, openvpn.StaticKey, nil},
		{"hub-spoke-5", tunnel.Spec{Sites: thesisSites(5), Mode: tunnel.HubSpoke, Hub: "site-a", Transit: transit, Port: 1194}, "", nil},
		{"thesis-latency", tunnel.Spec{Sites: thesisSites(3), Mode: tunnel.Mesh, Transit: transit, Port: 1194}, openvpn.StaticKey,
			map[string]map[string]time.Duration{
				"site-a": {"site-b": 50 * time.Millisecond, "site-c": 100 * time.Millisecond},
				"site-b": {"site-a": 50 * time.Millisecond},
			}},
	}
	for _, d := range vyos.Dialects {
		for _, tc := range cases {
			t.Run(string(d)+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				m, k := model(t, tc.spec, openvpn.Options{Auth: tc.auth})
				var b strings.Builder
				for _, s := range tc.spec.Sites {
					cfg, err := vyos.Build(vyos.Router{Model: m, Keys: k, Site: s.Name, Dialect: d, Underlay: underlay, Latency: tc.latency[s.Name]})
					require.NoError(t, err)
					out := vyos.Render(cfg, false)
					assert.NotContains(t, out, "PRIVATE KEY")
					for _, sk := range k.Static {
						h, _ := openvpn.StaticKeyHex(sk)
						assert.NotContains(t, out, h[:32], "static key must be redacted")
					}
					b.WriteString(out + "\n")
				}
				got := normalize(b.String(), k)
				path := filepath.Join("testdata", "v"+string(d), tc.name+".golden")
				if *update {
					require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
					require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
				}
				want, err := os.ReadFile(path)
				require.NoError(t, err, "run go test ./vyos -run TestGolden -update")
				assert.Equal(t, string(want), got)
			})
		}
	}
}

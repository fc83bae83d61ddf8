package vyos_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/openvpn/openvpntest"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/vyos"
)

// TestVyOSTunnelsWithRealOpenVPN runs, with the real OpenVPN 2.6 of this
// machine, the openvpn.conf VyOS would render from planetstage's set
// commands (vyos.OpenVPNConf), for every dialect and both auth modes, against
// the same dialect and against a Linux router. It proves the emitted key
// material and options interoperate (including 1.2/1.3's pinning of the
// peer's self-signed certificate as the only CA). It does not run VyOS.
func TestVyOSTunnelsWithRealOpenVPN(t *testing.T) {
	openvpntest.RequireNetns(t)
	for _, d := range vyos.Dialects {
		for _, auth := range []openvpn.Auth{openvpn.TLS, openvpn.StaticKey} {
			for _, peer := range []string{"vyos", "linux"} {
				t.Run(fmt.Sprintf("%s/%s/with-%s", d, auth, peer), func(t *testing.T) {
					t.Parallel()
					l := openvpntest.New(t, 2)
					m, k := model(t, tunnel.Spec{Sites: l.Sites, Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/30"), Port: 1194},
						openvpn.Options{Auth: auth, Keepalive: openvpn.Keepalive{Interval: 2, Restart: 10}})
					tn := m.Tunnels[0]
					for i := range 2 {
						dir := l.Dirs[i]
						var conf string
						var files []openvpn.File
						var err error
						if i == 1 && peer == "linux" {
							conf, err = openvpn.Config(m, k, tn, l.Sites[i].Name, dir)
							require.NoError(t, err)
							files, err = openvpn.RouterFiles(m, k, l.Sites[i].Name, dir)
							require.NoError(t, err)
						} else {
							cfg, err := vyos.Build(vyos.Router{Model: m, Keys: k, Site: l.Sites[i].Name, Dialect: d, Underlay: netip.MustParsePrefix("10.4.0.0/24")})
							require.NoError(t, err)
							conf, files, err = vyos.OpenVPNConf(cfg, openvpn.Interface(tn.Index), dir)
							require.NoError(t, err)
						}
						for _, f := range files {
							require.NoError(t, os.WriteFile(f.Path, f.Data, os.FileMode(f.Mode())))
						}
						confPath := filepath.Join(dir, "tunnel.conf")
						require.NoError(t, os.WriteFile(confPath, []byte(conf), 0o644))
						openvpntest.Sh(t, "ip netns exec %s openvpn --daemon --config %s --writepid %s/tunnel.pid --log %s/tunnel.log",
							l.RouterNS(i), confPath, dir, dir)
					}
					if err := openvpntest.Ping(l.RouterNS(0), tn.Ends[1].Address, 30*time.Second); err != nil {
						t.Fatalf("%v\n%s", err, l.Diagnose())
					}
				})
			}
		}
	}
}

// TestVyOSPinningRejectsAnotherCertificate is the negative control of the
// test above: with the peer's pinned certificate (1.2/1.3: the CA file;
// 1.4+: the fingerprint) replaced by another one, real OpenVPN refuses the
// peer and no packet passes.
func TestVyOSPinningRejectsAnotherCertificate(t *testing.T) {
	openvpntest.RequireNetns(t)
	for _, d := range []vyos.Dialect{vyos.V12, vyos.V14} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			l := openvpntest.New(t, 2)
			m, k := model(t, tunnel.Spec{Sites: l.Sites, Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/30"), Port: 1194}, openvpn.Options{})
			stranger, err := openvpn.NewCert(l.Sites[1].Router)
			require.NoError(t, err)
			tn := m.Tunnels[0]
			for i := range 2 {
				cfg, err := vyos.Build(vyos.Router{Model: m, Keys: k, Site: l.Sites[i].Name, Dialect: d, Underlay: netip.MustParsePrefix("10.4.0.0/24")})
				require.NoError(t, err)
				conf, files, err := vyos.OpenVPNConf(cfg, openvpn.Interface(tn.Index), l.Dirs[i])
				require.NoError(t, err)
				if i == 0 { // router 0 pins a stranger instead of router 1
					conf = strings.ReplaceAll(conf, k.Certs[l.Sites[1].Router].Fingerprint, stranger.Fingerprint)
					for j, f := range files {
						if strings.Contains(f.Path, "peer-") {
							files[j].Data = stranger.CertPEM
						}
					}
				}
				for _, f := range files {
					require.NoError(t, os.WriteFile(f.Path, f.Data, os.FileMode(f.Mode())))
				}
				confPath := filepath.Join(l.Dirs[i], "tunnel.conf")
				require.NoError(t, os.WriteFile(confPath, []byte(conf), 0o644))
				openvpntest.Sh(t, "ip netns exec %s openvpn --daemon --config %s --writepid %s/tunnel.pid --log %s/tunnel.log",
					l.RouterNS(i), confPath, l.Dirs[i], l.Dirs[i])
			}
			require.Error(t, openvpntest.Ping(l.RouterNS(0), tn.Ends[1].Address, 6*time.Second))
			logs, err := os.ReadFile(filepath.Join(l.Dirs[0], "tunnel.log"))
			require.NoError(t, err)
			require.Regexp(t, `(?i)verif(y|ication) (error|failed)`, string(logs), "router 0 must have rejected the peer's certificate")
		})
	}
}

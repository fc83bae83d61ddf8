package openvpn_test

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/tunnel"
)

// sites returns n sites shaped like the thesis: router WAN 10.4.0.90+i,
// site prefix 192.168.10*(i+1).0/24.
func sites(n int) []tunnel.Site {
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

// newModel allocates the tunnels of spec and carries them with OpenVPN.
func newModel(t testing.TB, spec tunnel.Spec, o openvpn.Options) *openvpn.Model {
	t.Helper()
	tm, err := tunnel.New(spec)
	require.NoError(t, err)
	m, err := openvpn.New(tm, o)
	require.NoError(t, err)
	return m
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	tm, err := tunnel.New(tunnel.Spec{Sites: sites(2), Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/24"), Port: openvpn.DefaultPort})
	require.NoError(t, err)
	cases := []struct {
		name string
		tm   *tunnel.Model
		opts openvpn.Options
		want openvpn.Options // when err is ""
		err  string
	}{
		{"defaults", tm, openvpn.Options{}, openvpn.Options{Auth: openvpn.TLS, Keepalive: openvpn.Keepalive{Interval: 10, Restart: 60}}, ""},
		{"static key", tm, openvpn.Options{Auth: openvpn.StaticKey, Keepalive: openvpn.Keepalive{Interval: 2, Restart: 10}},
			openvpn.Options{Auth: openvpn.StaticKey, Keepalive: openvpn.Keepalive{Interval: 2, Restart: 10}}, ""},
		{"auth", tm, openvpn.Options{Auth: "psk"}, openvpn.Options{}, `openvpn: auth "psk"`},
		{"keepalive", tm, openvpn.Options{Keepalive: openvpn.Keepalive{Interval: 60, Restart: 60}}, openvpn.Options{}, "keepalive 60/60: want interval >= 1 and restart > interval"},
		{"no model", nil, openvpn.Options{}, openvpn.Options{}, "no tunnel model"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := openvpn.New(tc.tm, tc.opts)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, m.Options)
			assert.Same(t, tc.tm, m.Model)
		})
	}
}

// The end that listens is the TLS server: two clients never connect.
func TestInterfacesAndRoles(t *testing.T) {
	t.Parallel()
	transit := netip.MustParsePrefix("10.255.0.0/16")
	cases := []struct {
		name    string
		spec    tunnel.Spec
		tunnels []string // "iface passive-active"
	}{
		{"mesh-3", tunnel.Spec{Sites: sites(3), Mode: tunnel.Mesh, Transit: transit, Port: 1194}, []string{
			"vtun0 site-a-site-b", "vtun1 site-a-site-c", "vtun2 site-b-site-c",
		}},
		{"hub-spoke-4", tunnel.Spec{Sites: sites(4), Mode: tunnel.HubSpoke, Hub: "site-c", Transit: transit, Port: 1194}, []string{
			"vtun0 site-c-site-a", "vtun1 site-c-site-b", "vtun2 site-c-site-d",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newModel(t, tc.spec, openvpn.Options{})
			var got []string
			for _, tn := range m.Tunnels {
				passive, active := tn.Ends[0].Site, tn.Ends[1].Site
				require.Equal(t, openvpn.Passive, openvpn.RoleOf(tn, passive))
				require.Equal(t, openvpn.Active, openvpn.RoleOf(tn, active))
				got = append(got, fmt.Sprintf("%s %s-%s", openvpn.Interface(tn.Index), passive, active))
			}
			assert.Equal(t, tc.tunnels, got)
		})
	}
}

// A tunnel.Model built by hand skips tunnel.New's checks; openvpn.New checks
// the names again, since they reach openvpn.conf and the boot script.
func TestNewRejectsHostileNames(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		site, router string
		want         string
	}{
		{"newline in router", "site-a", "vyos01\nscript-security 3\nup /tmp/x", `router "vyos01\nscript-security 3\nup /tmp/x" is not a DNS label`},
		{"semicolon in router", "site-a", "vyos01;reboot", `router "vyos01;reboot" is not a DNS label`},
		{"newline in site", "site-a\n", "vyos01", `site "site-a\n": name is not a DNS label`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tm, err := tunnel.New(tunnel.Spec{Sites: sites(2), Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/24"), Port: openvpn.DefaultPort})
			require.NoError(t, err)
			tm.Spec.Sites[0].Name, tm.Spec.Sites[0].Router = tc.site, tc.router
			tm.Tunnels[0].Ends[0].Site, tm.Tunnels[0].Ends[0].Router = tc.site, tc.router
			_, err = openvpn.New(tm, openvpn.Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

package vyos_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/vyos"
)

// cmds parses "set …" lines into commands.
func cmds(lines ...string) []vyos.Command {
	return vyos.ParseCommands(strings.Join(lines, "\n"))
}

// A minimal valid static-key tunnel per dialect, to which each case adds one
// line.
func baseTunnel(d vyos.Dialect) []string {
	lines := []string{
		"set interfaces openvpn vtun0 mode site-to-site",
		"set interfaces openvpn vtun0 local-address 10.255.0.1",
		"set interfaces openvpn vtun0 remote-address 10.255.0.2",
	}
	if d == vyos.V12 || d == vyos.V13 {
		return append(lines, "set interfaces openvpn vtun0 shared-secret-key-file /config/auth/k")
	}
	return append(lines,
		"set interfaces openvpn vtun0 shared-secret-key s",
		"set pki openvpn shared-secret s key "+strings.Repeat("ab", 256),
		"set pki openvpn shared-secret s version 1")
}

func TestValidateCatchesMistakes(t *testing.T) {
	t.Parallel()
	all := vyos.Dialects
	cases := []struct {
		name     string
		line     string
		dialects []vyos.Dialect // where it must fail; it must pass elsewhere
		want     string
	}{
		{"typo in node", "set interfaces openvpn vtun0 persistant-tunnel", all, `unknown node "persistant-tunnel"`},
		{"bad tag value", "set interfaces openvpn tun0 mode site-to-site", all, `value "tun0" of "openvpn"`},
		{"bad port", "set interfaces openvpn vtun0 local-port 70000", all, `value "70000" of "local-port"`},
		{"valueless with value", "set interfaces openvpn vtun0 persistent-tunnel yes", all, "takes no value"},
		{"leaf without value", "set interfaces openvpn vtun0 protocol", all, "takes exactly one value"},
		{"host name", "set system host-name -vyos", all, `value "-vyos" of "host-name"`},
		{"prefix with host bits", "set protocols static route 192.168.20.1/24 next-hop 10.255.0.2", all, `value "192.168.20.1/24"`},
		{"1.2 encryption is a leaf", "set interfaces openvpn vtun0 encryption cipher aes256", []vyos.Dialect{vyos.V12}, `"encryption" takes exactly one value`},
		{"1.3+ encryption has cipher", "set interfaces openvpn vtun0 encryption aes256", []vyos.Dialect{vyos.V13, vyos.V14, vyos.V15}, `unknown node "aes256"`},
		{"interface-route gone in 1.4", "set protocols static interface-route 192.168.20.0/24 next-hop-interface vtun0", []vyos.Dialect{vyos.V14, vyos.V15}, `unknown node "interface-route"`},
		{"route interface new in 1.4", "set protocols static route 192.168.20.0/24 interface vtun0", []vyos.Dialect{vyos.V12, vyos.V13}, `unknown node "interface"`},
		{"blowfish gone in 1.5", "set interfaces openvpn vtun0 encryption cipher bf256", []vyos.Dialect{vyos.V12, vyos.V15}, `encryption`},
		{"sha384 new in 1.3", "set interfaces openvpn vtun0 hash sha384", []vyos.Dialect{vyos.V12}, `value "sha384" of "hash"`},
		{"gcm with static key", "set interfaces openvpn vtun0 encryption cipher aes256gcm", []vyos.Dialect{vyos.V12, vyos.V13, vyos.V14, vyos.V15}, "encryption"},
		{"route to unknown tunnel", "set protocols static route 192.168.20.0/24 interface vtun9", []vyos.Dialect{vyos.V12, vyos.V13, vyos.V14, vyos.V15}, ""},
		{"static key files only before 1.4", "set interfaces openvpn vtun1 shared-secret-key-file /config/auth/k", []vyos.Dialect{vyos.V14, vyos.V15}, `unknown node "shared-secret-key-file"`},
	}
	for _, tc := range cases {
		for _, d := range all {
			t.Run(tc.name+"/"+string(d), func(t *testing.T) {
				t.Parallel()
				lines := append(baseTunnel(d), tc.line)
				if strings.Contains(tc.line, "vtun1") {
					lines = append(lines, strings.ReplaceAll(strings.Join(baseTunnel(d)[:3], "\n"), "vtun0", "vtun1"))
				}
				err := vyos.Validate(d, cmds(lines...))
				fails := false
				for _, f := range tc.dialects {
					fails = fails || f == d
				}
				if !fails {
					assert.NoError(t, err)
					return
				}
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.want)
			})
		}
	}
}

func TestValidateTLSRules(t *testing.T) {
	t.Parallel()
	fp := strings.TrimSuffix(strings.Repeat("AB:", 32), ":")
	v14 := []string{
		"set pki certificate c certificate MIIB",
		"set pki certificate c private key MIIE",
		"set interfaces openvpn vtun0 mode site-to-site",
		"set interfaces openvpn vtun0 local-address 10.255.0.1",
		"set interfaces openvpn vtun0 remote-address 10.255.0.2",
		"set interfaces openvpn vtun0 tls certificate c",
		"set interfaces openvpn vtun0 tls peer-fingerprint " + fp,
	}
	cases := []struct {
		name  string
		d     vyos.Dialect
		lines []string
		want  string // "" = valid
	}{
		{"1.4 passive", vyos.V14, append(v14, "set interfaces openvpn vtun0 tls role passive"), ""},
		{"1.4 no role", vyos.V14, v14, `"tls role" is required`},
		{"1.4 missing pki", vyos.V14, append(v14[2:], "set interfaces openvpn vtun0 tls role active"), "PKI is not configured"},
		{"1.5 cipher in TLS", vyos.V15, append(v14, "set interfaces openvpn vtun0 tls role active", "set interfaces openvpn vtun0 encryption cipher aes256"), "deprecated for TLS mode"},
		{"1.4 cipher in TLS is accepted", vyos.V14, append(v14, "set interfaces openvpn vtun0 tls role active", "set interfaces openvpn vtun0 encryption cipher aes256"), ""},
		{"bad fingerprint", vyos.V14, append(v14, "set interfaces openvpn vtun0 tls role active", "set interfaces openvpn vtun0 tls peer-fingerprint AB:CD"), `value "AB:CD" of "peer-fingerprint"`},
		{"1.2 passive without dh", vyos.V12, []string{
			"set interfaces openvpn vtun0 mode site-to-site",
			"set interfaces openvpn vtun0 local-address 10.255.0.1",
			"set interfaces openvpn vtun0 remote-address 10.255.0.2",
			"set interfaces openvpn vtun0 tls role passive",
			"set interfaces openvpn vtun0 tls ca-cert-file /config/auth/ca",
			"set interfaces openvpn vtun0 tls cert-file /config/auth/c",
			"set interfaces openvpn vtun0 tls key-file /config/auth/k",
		}, `Must specify "tls dh-file"`},
		{"tls and static key", vyos.V13, []string{
			"set interfaces openvpn vtun0 mode site-to-site",
			"set interfaces openvpn vtun0 local-address 10.255.0.1",
			"set interfaces openvpn vtun0 remote-address 10.255.0.2",
			"set interfaces openvpn vtun0 shared-secret-key-file /config/auth/k",
			"set interfaces openvpn vtun0 tls role active",
		}, `Must specify only one of "shared-secret-key" and "tls"`},
		{"same addresses", vyos.V13, []string{
			"set interfaces openvpn vtun0 mode site-to-site",
			"set interfaces openvpn vtun0 local-address 10.255.0.1",
			"set interfaces openvpn vtun0 remote-address 10.255.0.1",
			"set interfaces openvpn vtun0 shared-secret-key-file /config/auth/k",
		}, `"local-address" and "remote-address" cannot be the same`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := vyos.Validate(tc.d, cmds(tc.lines...))
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestValidateNeverQuotesSecrets(t *testing.T) {
	t.Parallel()
	for _, marked := range []bool{true, false} { // unmarked: a secret by its path
		bad := vyos.Command{Path: []string{"pki", "openvpn", "shared-secret", "s", "key", "not-hex-SECRETVALUE"}, Secret: marked}
		err := vyos.Validate(vyos.V14, []vyos.Command{bad})
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "SECRETVALUE", "marked %v", marked)
		assert.Contains(t, bad.Redacted(), "<redacted>")
	}
}

func TestParseVersion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]vyos.Dialect{"1.2.1": vyos.V12, "1.2": vyos.V12, "1.3.8": vyos.V13, "sagitta": vyos.V14, "1.4.3": vyos.V14, "1.5-rolling-202410": vyos.V15, "rolling": vyos.V15} {
		got, err := vyos.ParseVersion(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := vyos.ParseVersion("1.1.8")
	assert.ErrorContains(t, err, `vyos version "1.1.8"`)
	_, err = vyos.ParseVersion("1.20")
	assert.Error(t, err)
}

func TestBuildPutsTheSiteOnAVLANWhenAsked(t *testing.T) {
	t.Parallel()
	m, k := model(t, tunnel.Spec{Sites: thesisSites(2), Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: openvpn.DefaultPort}, openvpn.Options{})
	for _, d := range vyos.Dialects {
		cfg, err := vyos.Build(vyos.Router{Model: m, Keys: k, Site: "site-b", Dialect: d, Underlay: netip.MustParsePrefix("10.4.0.0/16"), LANVLAN: 20, SSHPort: 2222})
		require.NoError(t, err)
		out := vyos.Render(cfg, false)
		assert.Contains(t, out, "set interfaces ethernet eth1 vif 20 address 192.168.20.1/24\n")
		assert.NotContains(t, out, "set interfaces ethernet eth1 address")
		assert.Contains(t, out, "set service ssh port 2222\n")
	}
	_, err := vyos.Build(vyos.Router{Model: m, Keys: k, Site: "site-b", Dialect: vyos.V14, Underlay: netip.MustParsePrefix("10.9.0.0/16")})
	assert.ErrorContains(t, err, `router "vyos02": wan 10.4.0.91 is not in underlay 10.9.0.0/16`)
	_, err = vyos.Build(vyos.Router{Model: m, Keys: k, Site: "site-b", Dialect: vyos.V14, Underlay: netip.MustParsePrefix("10.4.0.0/16"), LANVLAN: 5000})
	assert.ErrorContains(t, err, `value "5000" of "vif"`)
}

func TestNetemPerDialect(t *testing.T) {
	t.Parallel()
	cases := []struct {
		d     vyos.Dialect
		lines []string
		want  string // "" = valid
	}{
		{vyos.V12, []string{"set traffic-policy network-emulator p network-delay 50ms", "set interfaces openvpn vtun0 traffic-policy out p"}, ""},
		{vyos.V13, []string{"set traffic-policy network-emulator p network-delay 50", "set interfaces ethernet eth0 traffic-policy out p"}, ""},
		{vyos.V14, []string{"set qos policy network-emulator p delay 50", "set qos interface vtun0 egress p"}, ""},
		{vyos.V14, []string{"set qos policy network-emulator p delay 50ms"}, `value "50ms" of "delay"`},
		{vyos.V15, []string{"set traffic-policy network-emulator p network-delay 50ms"}, `unknown node "traffic-policy"`},
		{vyos.V12, []string{"set qos policy network-emulator p delay 50"}, `unknown node "qos"`},
		{vyos.V13, []string{"set traffic-policy network-emulator p network_delay 50ms"}, `unknown node "network_delay"`},
		{vyos.V14, []string{"set qos interface vtun0 egress nowhere"}, "policy nowhere is not defined"},
		{vyos.V12, []string{"set interfaces openvpn vtun0 traffic-policy out nowhere"}, "traffic-policy nowhere is not defined"},
	}
	for _, tc := range cases {
		err := vyos.Validate(tc.d, cmds(append(baseTunnel(tc.d), tc.lines...)...))
		if tc.want == "" {
			assert.NoError(t, err, "%s %v", tc.d, tc.lines)
			continue
		}
		if assert.Error(t, err, "%s %v", tc.d, tc.lines) {
			assert.Contains(t, err.Error(), tc.want)
		}
	}
}

func TestLatencyErrors(t *testing.T) {
	t.Parallel()
	m, k := model(t, tunnel.Spec{Sites: thesisSites(3), Mode: tunnel.HubSpoke, Hub: "site-a", Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: openvpn.DefaultPort}, openvpn.Options{})
	build := func(lat map[string]time.Duration) error {
		_, err := vyos.Build(vyos.Router{Model: m, Keys: k, Site: "site-b", Dialect: vyos.V14, Underlay: netip.MustParsePrefix("10.4.0.0/16"), Latency: lat})
		return err
	}
	assert.NoError(t, build(map[string]time.Duration{"site-a": 20 * time.Millisecond}))
	assert.ErrorContains(t, build(map[string]time.Duration{"site-c": 20 * time.Millisecond}), `latency to "site-c": no tunnel to that site`)
	assert.ErrorContains(t, build(map[string]time.Duration{"site-a": 1500 * time.Microsecond}), "whole milliseconds")
}

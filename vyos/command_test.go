package vyos

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCommandsUndoesVyOSQuoting(t *testing.T) {
	t.Parallel()
	out := "set interfaces openvpn vtun0 local-port '1194'\n" +
		"set interfaces ethernet eth0 description 'WAN to the world'\n" +
		"set protocols static route 10.1.0.0/16 interface vtun0\n" +
		"set interfaces openvpn vtun0 persistent-tunnel\n" +
		"\nsome banner line\n"
	cmds := ParseCommands(out)
	var got []string
	for _, c := range cmds {
		got = append(got, strings.Join(c.Path, "|"))
	}
	assert.Equal(t, []string{
		"interfaces|openvpn|vtun0|local-port|1194",
		"interfaces|ethernet|eth0|description|WAN to the world",
		"protocols|static|route|10.1.0.0/16|interface|vtun0",
		"interfaces|openvpn|vtun0|persistent-tunnel",
	}, got)
	assert.Equal(t, "set interfaces ethernet eth0 description 'WAN to the world'", cmds[1].String())
}

func TestDiffIgnoresFingerprintCase(t *testing.T) {
	t.Parallel()
	fp := strings.TrimSuffix(strings.Repeat("AB:", 32), ":")
	c := &Config{Commands: []Command{set("interfaces", "openvpn", "vtun0", "tls", "peer-fingerprint", fp)}, Owned: [][]string{{"interfaces", "openvpn"}}}
	running := ParseCommands("set interfaces openvpn vtun0 tls peer-fingerprint '" + strings.ToLower(fp) + "'\n")
	assert.Empty(t, Diff(c, running))
}

// A path decides whether its value is secret, so that commands read back
// from a router are redacted; names of keys and key files are not secret.
func TestIsSecretByPath(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cmd    string
		secret bool
	}{
		{"set pki certificate planetstage private key 'MIGHAgEA'", true},
		{"set pki openvpn shared-secret planetstage-vtun0 key 'ab12'", true},
		{"set pki ca planetstage private key 'MIGHAgEA'", true},
		{"set service https api keys id admin key 'k3y'", true},
		{"set system login user vyos authentication plaintext-password 'pw'", true},
		{"set pki certificate planetstage certificate 'MIIB'", false},
		{"set pki openvpn shared-secret planetstage-vtun0 version '1'", false},
		{"set interfaces openvpn vtun0 shared-secret-key planetstage-vtun0", false},
		{"set interfaces openvpn vtun0 shared-secret-key-file '/config/auth/planetstage-vtun0-ab.key'", false},
		{"set interfaces openvpn vtun0 tls key-file '/config/auth/planetstage-router-ab.key'", false},
		{"set interfaces openvpn vtun0 tls peer-fingerprint 'AB:CD'", false},
	}
	for _, tc := range cases {
		cmds := ParseCommands(tc.cmd)
		require.Len(t, cmds, 1, tc.cmd)
		assert.Equal(t, tc.secret, cmds[0].IsSecret(), tc.cmd)
		assert.Equal(t, tc.secret, strings.Contains(cmds[0].Redacted(), "<redacted>"), tc.cmd)
	}
}

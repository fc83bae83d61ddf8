package vyos

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
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

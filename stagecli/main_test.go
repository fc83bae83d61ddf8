package stagecli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/plan"
)

// TestMain lets this test binary be `stage wan-relay`: the lab starts its
// WAN relay by running this same executable with that subcommand
// (lab.SelfRelay), as it runs the real stage binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "wan-relay" {
		(&CLI{}).Main()
	}
	os.Exit(m.Run())
}

// thesisCopy writes examples/thesis/thesis.yaml to a temporary file with
// replacements applied, and its hypervisors pointed at a loopback port that
// refuses connections: tests send nothing off this machine.
func thesisCopy(t *testing.T, replacements ...string) string {
	t.Helper()
	data, err := os.ReadFile("../examples/thesis/thesis.yaml")
	require.NoError(t, err)
	s := strings.NewReplacer("https://10.4.0.13/sdk", "https://127.0.0.1:1/sdk", "https://10.4.0.14/sdk", "https://127.0.0.1:1/sdk").Replace(string(data))
	for i := 0; i+1 < len(replacements); i += 2 {
		require.Contains(t, s, replacements[i])
		s = strings.Replace(s, replacements[i], replacements[i+1], 1)
	}
	path := filepath.Join(t.TempDir(), "thesis.yaml")
	require.NoError(t, os.WriteFile(path, []byte(s), 0o644))
	return path
}

// run runs the stage binary's command line: the zero CLI.
func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	return (&CLI{}).Run(ctx, args, out, errOut)
}

func stage(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestValidate(t *testing.T) {
	t.Parallel()
	code, out, _ := stage(t, "validate", "-f", thesisCopy(t))
	assert.Equal(t, 0, code)
	assert.Contains(t, out, `topology "thesis" is valid: 3 sites, 11 machines, 3 tunnels`)

	broken := thesisCopy(t,
		"192.168.20.102", "192.168.20.300",
		"vlan: 30", "vlan: 20",
		"name: node04", "name: node03",
		"podSubnet: 10.244.0.0/16", "podSubnet: 192.168.0.0/16",
	)
	code, _, errOut := stage(t, "validate", "-f", broken)
	assert.Equal(t, 1, code)
	for _, want := range []string{
		broken + `:33: sites[1].hosts[1].address: "192.168.20.300"`,
		broken + `:35: sites[2].vlan: VLAN 20 is already used by sites[1].vlan`,
		broken + `:41: sites[2].hosts[1].name: duplicate machine name node03`,
		`sites[0].prefix: 192.168.10.0/24 overlaps cluster.podSubnet`,
		"nothing was changed",
	} {
		assert.Contains(t, errOut, want)
	}
}

func TestPlanJSONIsAnAcyclicGraphOfEveryLayer(t *testing.T) {
	t.Setenv("GOVC_USERNAME", "user")
	t.Setenv("GOVC_PASSWORD", "not-a-real-password")
	state := t.TempDir()
	code, out, errOut := stage(t, "plan", "-f", thesisCopy(t), "--state", state, "--format", "json")
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, out+errOut, "not-a-real-password")
	written, err := os.ReadDir(state)
	require.NoError(t, err)
	assert.Empty(t, written, "a plan writes no key into the state")
	var got struct {
		Steps []struct {
			ID     string      `json:"id"`
			Action plan.Action `json:"action"`
			Layer  string      `json:"layer"`
			Deps   []string    `json:"deps"`
			Reason string      `json:"reason"`
		} `json:"steps"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	// The steps come in dependency order: every dependency before its
	// dependant, which is only possible in an acyclic graph.
	seen := map[string]bool{}
	layers := map[string]int{}
	for _, s := range got.Steps {
		for _, d := range s.Deps {
			assert.True(t, seen[d], "%s depends on %s, which comes later or not at all", s.ID, d)
		}
		seen[s.ID] = true
		layers[s.Layer]++
		assert.NotEqual(t, plan.NoOp, s.Action, "nothing exists yet: %s", s.ID)
	}
	assert.Equal(t, 2+5+11+11, layers["machines"], "2 vSwitches, 5 port groups, 11 VMs, 11 power-ons")
	assert.Equal(t, 3+3, layers["routers"], "3 routers, a probe per tunnel")
	assert.Equal(t, 1, layers["lb"])
	assert.Equal(t, 1+1+2+4+1+1, layers["cluster"], "PKI, init, 2 control-plane joins, 4 worker joins, CNI, readiness")
	assert.Contains(t, out, "hypervisor esxi1 unreachable")
}

func TestPlanFormatsAndLayers(t *testing.T) {
	t.Setenv("GOVC_USERNAME", "user")
	file := thesisCopy(t)
	for format, want := range map[string]string{
		"text":    "+ create    vm node03 on esxi2 (VLAN 30)",
		"dot":     `"routers/vyos01" -> "machines/up/vyos01";`,
		"mermaid": "flowchart RL",
	} {
		code, out, errOut := stage(t, "plan", "-f", file, "--state", t.TempDir(), "--format", format)
		require.Equal(t, 0, code, errOut)
		assert.Contains(t, out, want, format)
	}
	code, _, errOut := stage(t, "plan", "-f", file, "--state", t.TempDir(), "--layers", "esxi,bogus")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "unknown layer bogus")
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{}, {"frobnicate"}, {"plan"}, {"render", "-f", "x.yaml"}, {"validate", "-f", "x", "extra"}} {
		code, _, _ := stage(t, args...)
		assert.Equal(t, 2, code, "%v", args)
	}
	code, _, errOut := stage(t, "validate", "-f", "/nonexistent.yaml")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no such file")
}

func TestRenderRedactsSecrets(t *testing.T) {
	t.Parallel()
	file, state := thesisCopy(t), t.TempDir()
	code, out, errOut := stage(t, "render", "-f", file, "--state", state, "--host", "vyos01")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "<redacted>")
	assert.NotContains(t, out, "PRIVATE KEY")
	code, out, _ = stage(t, "render", "-f", file, "--state", state, "--host", "vyos01", "--show-secrets")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "PRIVATE KEY", "--show-secrets shows them")
	code, out, _ = stage(t, "render", "-f", file, "--state", state, "--host", "lb")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "/etc/haproxy/haproxy.cfg")
}

// With --lab and a topology with latency, each tunnel end's remote is its
// face of the lab's WAN relay on the underlay's gateway, for VyOS routers
// (remote-host, remote-port) as for Linux ones; without latency it stays
// the peer.
func TestRenderLabPointsTunnelsAtTheRelay(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(thesisCopy(t))
	require.NoError(t, err)
	located := strings.Replace(string(data), "  hypervisor: esxi1\n", "  hypervisor: esxi1\n  location: {city: Tokyo}\n", 1)
	located = strings.Replace(located, "  vlan: 20\n", "  vlan: 20\n  location: {city: Frankfurt}\n", 1)
	located = strings.Replace(located, "  vlan: 30\n", "  vlan: 30\n  location: {city: São Paulo}\n", 1)
	file := filepath.Join(t.TempDir(), "geo.yaml")
	require.NoError(t, os.WriteFile(file, []byte(located), 0o600))

	code, out, errOut := stage(t, "render", "-f", file, "--state", t.TempDir(), "--host", "vyos01", "--lab", "--layers", "routers")
	require.Equal(t, 0, code, errOut)
	// Paths sort by pair: site-a<->site-b (40000/1), site-a<->site-c
	// (40002/3); site-a is A of both.
	assert.Contains(t, out, "set interfaces openvpn vtun0 remote-host 10.4.255.254\nset interfaces openvpn vtun0 remote-port 40000\n")
	assert.Contains(t, out, "set interfaces openvpn vtun1 remote-host 10.4.255.254\nset interfaces openvpn vtun1 remote-port 40002\n")
	assert.NotContains(t, out, "network-emulator", "the relay carries the latency, not VyOS")

	code, out, _ = stage(t, "render", "-f", file, "--state", t.TempDir(), "--host", "vyos01", "--layers", "routers")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "set interfaces openvpn vtun0 remote-host 10.4.0.91\n", "on hardware the peer")
	assert.Contains(t, out, "network-emulator", "on hardware VyOS shapes the latency itself")
}

func TestGraph(t *testing.T) {
	t.Parallel()
	code, out, _ := stage(t, "graph", "-f", thesisCopy(t))
	require.Equal(t, 0, code)
	assert.Contains(t, out, `"vyos01" -- "vyos02" [style = dashed, label = "openvpn"];`)
}

// An offline plan reaches nothing: with the hypervisors unreachable it is
// still every step, each a create, and not the "unreachable" a plan says.
func TestPlanOffline(t *testing.T) {
	t.Setenv("GOVC_USERNAME", "user")
	file := thesisCopy(t)
	code, out, errOut := stage(t, "plan", "-f", file, "--state", t.TempDir(), "--offline", "--format", "json")
	require.Equal(t, 0, code, errOut)
	var got struct {
		Steps []struct {
			ID     string      `json:"id"`
			Action plan.Action `json:"action"`
			Reason string      `json:"reason"`
		} `json:"steps"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Len(t, got.Steps, 29+6+1+10, "every step of every layer")
	for _, s := range got.Steps {
		assert.Equal(t, plan.Create, s.Action, s.ID)
		assert.Equal(t, plan.OfflineReason, s.Reason, s.ID)
	}
	assert.NotContains(t, out, "unreachable")
	code, _, errOut = stage(t, "plan", "-f", file, "--offline", "--lab")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "--offline and --lab exclude each other")
}

// stage ssh on the hardware path prints (or runs) OpenSSH as the file's ssh
// section says: a host through its site's router, host keys checked.
func TestSSHCommandLine(t *testing.T) {
	t.Parallel()
	file := thesisCopy(t)
	code, out, errOut := stage(t, "ssh", "-f", file, "--print", "node03", "uname", "-a")
	require.Equal(t, 0, code, errOut)
	assert.True(t, strings.HasPrefix(out, "ssh "), out)
	assert.Contains(t, out, "StrictHostKeyChecking=yes")
	assert.Contains(t, out, "'ProxyCommand=ssh ", "quoted for a shell")
	assert.Contains(t, out, " -- uname -a\n")
	code, _, errOut = stage(t, "ssh", "-f", file, "--print", "nosuch")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `no machine "nosuch"`)
	code, _, _ = stage(t, "ssh", "-f", file)
	assert.Equal(t, 2, code, "a node is required")
}

// TestHardwareChangesNeedConfirmation: apply and destroy against the
// file's hardware refuse without a terminal and without --yes, before
// reaching any machine (the thesis file's addresses are not this
// machine's, and nothing is dialled).
func TestHardwareChangesNeedConfirmation(t *testing.T) {
	t.Parallel()
	c := &CLI{IsTerminal: func() bool { return false }}
	for _, cmd := range []string{"apply", "destroy"} {
		var stdout, stderr bytes.Buffer
		code := c.Run(t.Context(), []string{cmd, "-f", thesisCopy(t), "--state", t.TempDir()}, &stdout, &stderr)
		out, errOut := stdout.String(), stderr.String()
		assert.Equal(t, 1, code, out)
		assert.Contains(t, errOut, cmd+" changes real machines: run it on a terminal to review the plan and confirm, or pass --yes")
		assert.NotContains(t, out, "created", "nothing was applied")
	}
}

// TestPackageDocListsEveryCommand: the package doc's synopsis has a line
// for every command the CLI runs, and the README's table a row.
func TestPackageDocListsEveryCommand(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("stagecli.go")
	require.NoError(t, err)
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	for name := range commands {
		assert.Regexp(t, `(?m)^//\tstage `+regexp.QuoteMeta(name)+` `, string(doc), "stagecli's package doc lists %s", name)
		if name != "wan-relay" && name != "node-image" { // run by apply --lab, and before the tests
			assert.Contains(t, string(readme), "| `"+name, "the README's table has %s", name)
		}
	}
}

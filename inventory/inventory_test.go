package inventory

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/topology"
)

func load(t *testing.T, edits ...string) *topology.Topology {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "thesis-geo.yaml"))
	require.NoError(t, err)
	s := string(data)
	for i := 0; i+1 < len(edits); i += 2 {
		require.Contains(t, s, edits[i])
		s = strings.Replace(s, edits[i], edits[i+1], 1)
	}
	path := filepath.Join(t.TempDir(), "topology.yaml")
	require.NoError(t, os.WriteFile(path, []byte(s), 0o600))
	topo, err := topology.Load(path)
	require.NoError(t, err)
	return topo
}

func TestOfTheModel(t *testing.T) {
	t.Parallel()
	inv, err := Of(load(t), nil)
	require.NoError(t, err)
	assert.Equal(t, FromModel, inv.Source)
	assert.Equal(t, "thesis", inv.Topology)
	require.Len(t, inv.Machines, 11)
	assert.Equal(t, Machine{Name: "vyos01", Role: "router", Router: "vyos 1.2", Site: "site-a",
		Address: netip.MustParseAddr("192.168.10.1"), WAN: netip.MustParseAddr("10.4.0.90"), Hypervisor: "esxi1"}, inv.Machines[0])
	assert.Equal(t, Machine{Name: "lb", Role: "load-balancer", Site: "site-a",
		Address: netip.MustParseAddr("192.168.10.253"), Hypervisor: "esxi1"}, inv.Machines[1], "a load balancer is no Kubernetes node")
	assert.Equal(t, "control-plane", inv.Machines[2].Kubernetes)
	assert.Equal(t, "worker", inv.Machines[6].Kubernetes)
	for _, m := range inv.Machines {
		assert.Empty(t, m.Container, "the model knows no state: %s", m.Name)
		assert.Empty(t, m.VM, "the model knows no state: %s", m.Name)
	}

	require.Len(t, inv.Tunnels, 3)
	tn := inv.Tunnels[0]
	assert.Equal(t, "vyos01_vyos02", tn.Name)
	assert.Equal(t, uint16(1194), tn.Port)
	assert.Equal(t, "10.255.0.0/30", tn.Transit.String())
	assert.Equal(t, TunnelEnd{Site: "site-a", Router: "vyos01", WAN: netip.MustParseAddr("10.4.0.90"),
		Address: netip.MustParseAddr("10.255.0.1"), Remote: netip.MustParseAddrPort("10.4.0.91:1194")}, tn.Ends[0])
	assert.Equal(t, netip.MustParseAddrPort("10.4.0.90:1194"), tn.Ends[1].Remote, "each end sends to its peer")
	// Tokyo-Frankfurt is about 9,300 km; with the default route inflation
	// the model gives well over 100 ms, and less than a second.
	assert.Greater(t, tn.RTTMs, 100.0)
	assert.Less(t, tn.RTTMs, 1000.0)
	assert.Nil(t, inv.Relay, "a relay is the lab's")
}

func TestOfPointsEndsAtTheirRemotes(t *testing.T) {
	t.Parallel()
	relay := netip.MustParseAddrPort("10.4.255.254:40000")
	inv, err := Of(load(t), map[layer.RelayEnd]netip.AddrPort{{Tunnel: 0, Site: "site-a"}: relay})
	require.NoError(t, err)
	assert.Equal(t, relay, inv.Tunnels[0].Ends[0].Remote)
	assert.Equal(t, netip.MustParseAddrPort("10.4.0.90:1194"), inv.Tunnels[0].Ends[1].Remote)
}

func TestOfWithoutVPNOrCluster(t *testing.T) {
	t.Parallel()
	topo := load(t)
	topo.VPN, topo.Cluster = nil, nil
	inv, err := Of(topo, nil)
	require.NoError(t, err)
	assert.Empty(t, inv.Tunnels)
	for _, m := range inv.Machines {
		assert.Empty(t, m.Kubernetes, "no cluster, no node: %s", m.Name)
	}
	var text strings.Builder
	require.NoError(t, inv.WriteTable(&text))
	assert.Contains(t, text.String(), "no tunnels: the topology has no vpn")
	data, err := json.Marshal(inv)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"tunnels":[]`, "a list, not null, for scripts")
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	model, err := Of(load(t), nil)
	require.NoError(t, err)
	var text strings.Builder
	require.NoError(t, model.WriteTable(&text))
	out := text.String()
	assert.True(t, strings.HasPrefix(out, "topology thesis: the model only, from the topology file; no machine was contacted\n"), out)
	assert.Regexp(t, `(?m)^MACHINE +ROLE +SITE +ADDRESS +WAN +HYPERVISOR$`, out, "no state columns for the model")
	assert.Regexp(t, `(?m)^vyos01 +router \(vyos 1\.2\) +site-a +192\.168\.10\.1 +10\.4\.0\.90 +esxi1$`, out)
	assert.Regexp(t, `(?m)^node04 +worker +site-c +192\.168\.30\.102 +- +esxi2$`, out)
	assert.Regexp(t, `(?m)^vyos02_vyos03 +1196 +10\.255\.0\.8/30 +vyos02 10\.4\.0\.91 10\.255\.0\.9 +vyos03 10\.4\.0\.92 10\.255\.0\.10 +\d+(\.\d+)? ms$`, out)
	assert.NotContains(t, out, "WAN relay")

	lab := model
	lab.Source = FromLab
	lab.Machines = append([]Machine(nil), model.Machines...)
	lab.Machines[0].Container, lab.Machines[0].VM = ContainerRunning, VMOn
	lab.Machines[1].Container, lab.Machines[1].VM = ContainerAbsent, VMUnknown
	lab.Relay = &Relay{Bind: netip.MustParseAddr("10.4.255.254"), FirstPort: 40000, LastPort: 40005,
		Paths: []RelayPath{{Name: "site-a<->site-b", ListenA: netip.MustParseAddrPort("10.4.255.254:40000"), ListenB: netip.MustParseAddrPort("10.4.255.254:40001"), RTTMs: 150}}}
	lab.Notes = []string{"router vyos01 (VyOS 1.2) runs in the VyOS stand-in, not VyOS"}
	text.Reset()
	require.NoError(t, lab.WriteTable(&text))
	out = text.String()
	assert.True(t, strings.HasPrefix(out, "topology thesis, in its lab: "), out)
	assert.Regexp(t, `(?m)^MACHINE +ROLE +SITE +ADDRESS +WAN +HYPERVISOR +CONTAINER +VM$`, out)
	assert.Regexp(t, `(?m)^vyos01 +.* +esxi1 +running +on$`, out)
	assert.Regexp(t, `(?m)^lb +.* +esxi1 +absent +unknown$`, out)
	assert.Contains(t, out, "WAN relay on 10.4.255.254, UDP 40000-40005: NOT running")
	assert.Regexp(t, `(?m)^site-a<->site-b +10\.4\.255\.254:40000 +10\.4\.255\.254:40001 +150 ms$`, out)
	assert.Contains(t, out, "\n • router vyos01 (VyOS 1.2) runs in the VyOS stand-in, not VyOS\n")
}

// TestJSONKeysAreCamelCase marshals a full inventory and checks every key
// of every object, as Kubernetes writes them.
func TestJSONKeysAreCamelCase(t *testing.T) {
	t.Parallel()
	inv, err := Of(load(t), nil)
	require.NoError(t, err)
	inv.Source = FromLab
	inv.Machines[0].Container, inv.Machines[0].VM = ContainerRunning, VMOn
	inv.Relay = &Relay{Bind: netip.MustParseAddr("10.4.255.254"), FirstPort: 40000, LastPort: 40001, Running: true,
		Paths: []RelayPath{PathOf(wanPath())}}
	inv.Notes = []string{"a note"}
	data, err := json.Marshal(inv)
	require.NoError(t, err)
	var tree any
	require.NoError(t, json.Unmarshal(data, &tree))
	camel := regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	var keys []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				keys = append(keys, k)
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(tree)
	for _, k := range keys {
		assert.Regexp(t, camel, k)
	}
	for _, want := range []string{"topology", "source", "machines", "kubernetes", "hypervisor", "container", "vm", "wan",
		"tunnels", "transit", "ends", "remote", "rttMs", "relay", "bind", "firstPort", "lastPort", "running", "paths", "listenA", "listenB", "notes"} {
		assert.Contains(t, keys, want)
	}
	assert.Contains(t, string(data), `"source":"lab"`)
	assert.NotContains(t, string(data), `"wan":""`, "a host has no WAN address, and no empty one either")
}

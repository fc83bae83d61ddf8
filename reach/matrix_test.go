package reach

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/topology"
)

// fullMatrix is a matrix over names where reach decides each pair and
// every reachable pair took rtt.
func fullMatrix(names []string, reach func(from, to string) bool, rtt time.Duration) Matrix {
	m := Matrix{Machines: names}
	for _, a := range names {
		for _, b := range names {
			if a != b {
				p := Pair{From: a, To: b, Reachable: reach(a, b)}
				if p.Reachable {
					p.RTT = rtt
				}
				m.Pairs = append(m.Pairs, p)
			}
		}
	}
	return m
}

// simMachines are simTopology's machines: vyos01 and master01 in site a,
// gw2 and node01 in site b.
var simMachines = []string{"vyos01", "master01", "gw2", "node01"}

func simTopology(name string) *topology.Topology {
	addr, pfx := netip.MustParseAddr, netip.MustParsePrefix
	t := &topology.Topology{
		APIVersion: topology.APIVersion, Kind: topology.Kind, Name: name,
		Underlay: topology.Underlay{Prefix: pfx("10.25.0.0/16")},
		Sites: []topology.Site{
			{Name: "a", VLAN: 10, Prefix: pfx("172.25.10.0/24"),
				Router: topology.Router{Name: "vyos01", Kind: topology.RouterLinux, WAN: addr("10.25.0.90"), LAN: addr("172.25.10.1")},
				Hosts:  []topology.Host{{Name: "master01", Address: addr("172.25.10.101"), Role: topology.RoleControlPlane}}},
			{Name: "b", VLAN: 20, Prefix: pfx("172.25.20.0/24"),
				Router: topology.Router{Name: "gw2", Kind: topology.RouterLinux, WAN: addr("10.25.0.91"), LAN: addr("172.25.20.1")},
				Hosts:  []topology.Host{{Name: "node01", Address: addr("172.25.20.101"), Role: topology.RoleWorker}}},
		},
	}
	t.SetDefaults()
	return t
}

func TestWithinSitesMismatches(t *testing.T) {
	t.Parallel()
	within := WithinSites(simTopology("reach"))
	assert.True(t, within("vyos01", "master01"))
	assert.False(t, within("master01", "node01"))

	before := fullMatrix(simMachines, within, 0)
	assert.Empty(t, before.Mismatches(within), "a testbed before its tunnels")
	assert.Len(t, before.Unreachable(), 8, "4 cross-site pairs each way")

	leaky := fullMatrix(simMachines, func(a, b string) bool { return within(a, b) || a == "master01" && b == "node01" }, 0)
	assert.Equal(t, []Pair{{From: "master01", To: "node01", Reachable: true}}, leaky.Mismatches(within))

	after := fullMatrix(simMachines, func(string, string) bool { return true }, time.Millisecond)
	assert.Len(t, after.Mismatches(within), 8, "after the tunnels every cross-site pair differs from the isolated sites")
}

func TestCheckConnected(t *testing.T) {
	t.Parallel()
	all := func(string, string) bool { return true }
	assert.NoError(t, fullMatrix(simMachines, all, 0).CheckConnected())
	assert.NoError(t, Matrix{}.CheckConnected(), "no pair, none unreachable")

	err := fullMatrix(simMachines, func(a, b string) bool { return a != "node01" }, 0).CheckConnected()
	assert.EqualError(t, err, "3 of 12 pairs unreachable: node01→vyos01, node01→master01, node01→gw2")

	var names []string
	for i := range 4 {
		names = append(names, fmt.Sprintf("m%d", i))
	}
	err = fullMatrix(names, func(string, string) bool { return false }, 0).CheckConnected()
	assert.EqualError(t, err, "12 of 12 pairs unreachable: m0→m1, m0→m2, m0→m3, m1→m0, m1→m2, and 7 more")
}

func TestWriteRTTs(t *testing.T) {
	t.Parallel()
	topo := simTopology("reach")
	m := fullMatrix(simMachines, func(a, b string) bool { return a != "gw2" }, 1500*time.Microsecond)
	var b strings.Builder
	require.NoError(t, m.WriteRTTs(&b, topo))
	assert.Equal(t, "Round trip times across sites (ms, average of 3 pings):\n"+
		"  vyos01    -> gw2         1.500\n"+
		"  vyos01    -> node01      1.500\n"+
		"  master01  -> gw2         1.500\n"+
		"  master01  -> node01      1.500\n"+
		"  node01    -> vyos01      1.500\n"+
		"  node01    -> master01    1.500\n", b.String(), "same-site pairs and unreachable ones are left out")

	b.Reset()
	require.NoError(t, fullMatrix(simMachines, WithinSites(topo), 0).WriteRTTs(&b, topo))
	assert.Equal(t, "Round trip times across sites (ms, average of 3 pings):\n  (no pair across sites answered)\n", b.String())
}

func TestMatrixTableAndJSON(t *testing.T) {
	t.Parallel()
	m := Matrix{Machines: []string{"vyos01", "lb"}, Pairs: []Pair{
		{From: "vyos01", To: "lb", Reachable: true, RTT: 1500 * time.Microsecond},
		{From: "lb", To: "vyos01"},
	}}
	assert.Equal(t, "from\\to  vyos01 lb\nvyos01   -      o\nlb       x      -\n", m.Table())
	assert.Len(t, m.Unreachable(), 1)
	data, err := json.Marshal(m)
	require.NoError(t, err)
	assert.JSONEq(t, `{"machines":["vyos01","lb"],"hosts":[
		{"from":"vyos01","to":"lb","reachable":true,"rttMs":1.5},
		{"from":"lb","to":"vyos01","reachable":false,"rttMs":0}]}`, string(data))
	var back Matrix
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, m, back)
}

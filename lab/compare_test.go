package lab

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// cmpTopology: sites on 10.54.0.0/16 and the underlay on 172.54.0.0/16
// (the comparison tests' ranges), each a Linux router and one host, in
// the cities of the planet preset when located, in a mesh of vpnType.
func cmpTopology(name, vpnType string, sites int, located bool) *topology.Topology {
	addr, pfx := netip.MustParseAddr, netip.MustParsePrefix
	planet := []string{"Tokyo", "Frankfurt", "São Paulo"}
	t := &topology.Topology{
		APIVersion: topology.APIVersion, Kind: topology.Kind, Name: name,
		Underlay: topology.Underlay{Prefix: pfx("172.54.0.0/16")},
		VPN:      &topology.VPN{Type: vpnType, Mode: topology.VPNMesh, Transit: pfx("10.54.255.0/24")},
	}
	for n := 1; n <= sites; n++ {
		p := pfx(fmt.Sprintf("10.54.%d.0/24", n))
		s := topology.Site{Name: fmt.Sprintf("s%d", n), VLAN: n * 10, Prefix: p,
			Router: topology.Router{Name: fmt.Sprintf("r%d", n), Kind: topology.RouterLinux, WAN: addr(fmt.Sprintf("172.54.0.%d", 10+n)), LAN: p.Addr().Next()},
			Hosts:  []topology.Host{{Name: fmt.Sprintf("h%d", n), Address: addr(fmt.Sprintf("10.54.%d.10", n)), Role: topology.RoleGeneric}}}
		if located {
			s.Location = &topology.Location{City: planet[n-1]}
		}
		t.Sites = append(t.Sites, s)
	}
	t.SetDefaults()
	return t
}

// Bad input is refused before the lab is touched: no Docker is needed,
// since nothing is dialled, applied or shaped.
func TestCompareTunnelKindsRefusesBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		located bool
		o       CompareOptions
		want    []string
	}{
		{"unknown kind", true, CompareOptions{Kinds: []string{"openvpn", "ipsec"}}, []string{`tunnel kind "ipsec"`, "openvpn, wireguard"}},
		{"empty kind", true, CompareOptions{Kinds: []string{""}}, []string{`tunnel kind ""`}},
		{"kind twice", true, CompareOptions{Kinds: []string{"wireguard", "wireguard"}}, []string{`"wireguard": asked for twice`}},
		{"unknown latency", true, CompareOptions{Latencies: []Latency{"planet"}}, []string{`latency "planet"`}},
		{"latency without relay", false, CompareOptions{Latencies: []Latency{NoLatency, TopologyLatency}}, []string{`latency "topology"`, "no WAN relay"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			topo := cmpTopology("cmp-bad", topology.VPNTypeWireGuard, 3, tc.located)
			l := &Lab{name: "cmp-bad", topo: topo}
			if tc.located {
				relay, err := RelayFor(topo)
				require.NoError(t, err)
				require.NotNil(t, relay)
				l.relay = relay
			}
			relay := l.relay
			c, err := l.CompareTunnelKinds(context.Background(), tc.o)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Empty(t, c.Runs)
			assert.Empty(t, c.Switches, "nothing applied")
			assert.Same(t, topo, l.Topology(), "the lab runs its topology still")
			assert.Same(t, relay, l.relay)
			assert.Equal(t, topology.VPNTypeWireGuard, topo.VPN.Type)
		})
	}
}

func TestCompareDefaults(t *testing.T) {
	t.Parallel()
	for _, located := range []bool{true, false} {
		topo := cmpTopology("cmp-defaults", topology.VPNTypeOpenVPN, 2, located)
		l := &Lab{name: "cmp-defaults", topo: topo}
		relay, err := RelayFor(topo)
		require.NoError(t, err)
		l.relay = relay
		var o CompareOptions
		plans, err := l.comparePlan(topo, &o)
		require.NoError(t, err)
		assert.Equal(t, []string{topology.VPNTypeOpenVPN, topology.VPNTypeWireGuard}, o.Kinds)
		assert.Equal(t, DefaultCompareThroughput, o.Measure.Throughput)
		if located {
			assert.Equal(t, []Latency{NoLatency, TopologyLatency}, o.Latencies, "a lab with a relay: both settings")
		} else {
			assert.Nil(t, relay)
			assert.Equal(t, []Latency{NoLatency}, o.Latencies, "no relay, no latency to give")
		}
		require.Len(t, plans, 2)
		assert.Equal(t, topology.VPNTypeWireGuard, plans[topology.VPNTypeWireGuard].VPN.Type)
		assert.Same(t, topo, l.Topology(), "planning changes nothing")
	}
}

func TestWithTunnelKind(t *testing.T) {
	t.Parallel()
	ovpn := cmpTopology("cmp-kind", topology.VPNTypeOpenVPN, 2, true)
	wg := withTunnelKind(ovpn, topology.VPNTypeWireGuard)
	require.NoError(t, wg.Validate())
	assert.Equal(t, topology.VPNTypeWireGuard, wg.VPN.Type)
	assert.Equal(t, topology.DefaultWireGuardPort, wg.VPN.Port, "the default port of the kind")
	assert.Empty(t, wg.VPN.Auth)
	assert.Equal(t, topology.VPNTypeOpenVPN, ovpn.VPN.Type, "the original is left alone")

	back := withTunnelKind(wg, topology.VPNTypeOpenVPN)
	require.NoError(t, back.Validate())
	assert.Equal(t, ovpn.VPN, back.VPN, "a round trip gives the topology back")

	custom := cmpTopology("cmp-kind", topology.VPNTypeOpenVPN, 2, true)
	custom.VPN.Port = 41000
	assert.Equal(t, 41000, withTunnelKind(custom, topology.VPNTypeWireGuard).VPN.Port, "a port of its own stays")

	keep := cmpTopology("cmp-kind", topology.VPNTypeWireGuard, 2, true)
	keep.VPN.WireGuard = &topology.WireGuardVPN{PresharedKey: true}
	o := withTunnelKind(keep, topology.VPNTypeOpenVPN)
	require.NoError(t, o.Validate())
	assert.Nil(t, o.VPN.WireGuard, "WireGuard's settings go with it")
	assert.Equal(t, topology.VPNAuthTLS, o.VPN.Auth)
}

func TestMeasureOrder(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"wireguard", "openvpn"}, measureOrder([]string{"openvpn", "wireguard"}, "wireguard"), "the lab's own kind needs no switch: first")
	assert.Equal(t, []string{"openvpn", "wireguard"}, measureOrder([]string{"openvpn", "wireguard"}, "openvpn"))
	assert.Equal(t, []string{"openvpn"}, measureOrder([]string{"openvpn"}, "wireguard"))
}

func TestComparisonTable(t *testing.T) {
	t.Parallel()
	c := Comparison{
		Kinds:     []string{"openvpn", "wireguard"},
		Latencies: []Latency{NoLatency, TopologyLatency},
		Direct:    []wan.SiteResult{{From: "s1", To: "s2", MeasuredMs: 0.1}},
		Runs: []KindRun{
			{Kind: "openvpn", Latency: NoLatency, Report: wan.Report{
				Sites:   []wan.SiteResult{{From: "s1", To: "s2", MeasuredMs: 0.5}},
				Tunnels: []wan.TunnelResult{{From: "s1", To: "s2", TunnelMbps: 168, DirectMbps: 7000, RouterCPUPct: 45}}}},
			{Kind: "openvpn", Latency: TopologyLatency, Report: wan.Report{
				Sites:   []wan.SiteResult{{From: "s1", To: "s2", TargetMs: 139.98, MeasuredMs: 141}},
				Tunnels: []wan.TunnelResult{{From: "s1", To: "s2", TunnelMbps: 21, DirectMbps: 7100, RouterCPUPct: 7}}}},
			// WireGuard under latency only, and without throughput.
			{Kind: "wireguard", Latency: TopologyLatency, Report: wan.Report{
				Sites:          []wan.SiteResult{{From: "s1", To: "s2", TargetMs: 139.98, MeasuredMs: 140.5}},
				TunnelsSkipped: "iperf3 is not installed on router r1"}},
		},
		Switches:       []KindSwitch{{Kind: "openvpn", Seconds: 1.04}, {Kind: "wireguard", Seconds: 23.46, Changed: 6}, {Kind: "openvpn", Seconds: 30, Changed: 6, Restore: true}},
		Restored:       "openvpn",
		WithoutLatency: "the WAN relay's paths with their shaping off",
	}
	rows := c.Rows()
	require.Len(t, rows, 2)
	assert.InDelta(t, 0.4, rows[0].Kinds[0].OverheadMs, 1e-9, "0.5 through the tunnel, less 0.1 direct")
	assert.True(t, math.IsNaN(rows[0].Kinds[1].RTTMs), "not measured")
	assert.InDelta(t, 141-139.98-0.1, rows[1].Kinds[0].OverheadMs, 1e-9)
	want := "| from | to | latency | target ms | direct ms | openvpn ms | wireguard ms | openvpn +ms | wireguard +ms | openvpn Mbit/s | wireguard Mbit/s | direct Mbit/s | openvpn CPU % | wireguard CPU % |\n" +
		"|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n" +
		"| s1 | s2 | none | 0.00 | 0.10 | 0.50 | - | +0.40 | - | 168 | - | 7000 | 45 | - |\n" +
		"| s1 | s2 | topology | 139.98 | 0.10 | 141.00 | 140.50 | +0.92 | +0.42 | 21 | - | 7100 | 7 | - |\n" +
		"\nlatency none: the WAN relay's paths with their shaping off\n" +
		"+ms: the tunnel's RTT less the target and the direct RTT; direct: the routers' underlay addresses, no tunnel, no relay\n" +
		"wireguard, latency topology: throughput not measured: iperf3 is not installed on router r1\n" +
		"switched to openvpn: 0 steps changed, every pair answering, in 1.0s\n" +
		"switched to wireguard: 6 steps changed, every pair answering, in 23.5s\n" +
		"restored openvpn: 6 steps changed, every pair answering, in 30.0s\n"
	assert.Equal(t, want, c.Table())
}

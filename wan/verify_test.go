package wan

import (
	"context"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMeasureSites(t *testing.T) {
	t.Parallel()
	good := &fakeRunner{outputs: map[string]string{"LC_ALL=C ping": pingOutput}}
	silent := &fakeRunner{outputs: map[string]string{"LC_ALL=C ping": "3 packets transmitted, 0 received\n"}}
	results, err := MeasureSites(t.Context(), []SiteProbe{
		{From: "a", To: "b", Target: 60 * time.Millisecond, Runner: good, Addr: netip.MustParseAddr("10.255.0.2")},
		{From: "a", To: "c", Target: 20 * time.Millisecond, Runner: silent, Addr: netip.MustParseAddr("10.255.0.6")},
	}, 5, 200*time.Millisecond)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sites a -> c: ping 10.255.0.6 from fake: no replies")
	require.Len(t, results, 1, "the failed probe is left out")
	assert.Equal(t, SiteResult{From: "a", To: "b", TargetMs: 60, MeasuredMs: 61, ErrorPct: 1.67}, results[0])
}

func TestMeasureTunnels(t *testing.T) {
	t.Parallel()
	server := &fakeRunner{outputs: map[string]string{"setsid iperf3": "77\n"}}
	client := &fakeRunner{outputs: map[string]string{
		"iperf3 -c 10.255.0.2": `{"end": {"sum_received": {"bits_per_second": 80e6}}}`,
		"iperf3 -c 10.4.0.91":  `{"end": {"sum_received": {"bits_per_second": 900e6}}}`,
	}}
	// Fake counters: the client router burns 40 ms per sample, the server
	// 10 ms; each run sleeps (in the fake) not at all, so the percentages
	// are large but their order is what matters.
	var clientCalls, serverCalls int
	clientCPU := func(context.Context) (time.Duration, error) {
		clientCalls++
		return time.Duration(clientCalls) * 40 * time.Millisecond, nil
	}
	serverCPU := func(context.Context) (time.Duration, error) {
		serverCalls++
		return time.Duration(serverCalls) * 10 * time.Millisecond, nil
	}
	results, err := MeasureTunnels(t.Context(), []TunnelProbe{{
		From: "a", To: "b", Client: client, Server: server,
		TunnelAddr: netip.MustParseAddr("10.255.0.2"), DirectAddr: netip.MustParseAddr("10.4.0.91"),
		ClientCPU: clientCPU, ServerCPU: serverCPU,
	}}, time.Second)
	require.NoError(t, err)
	require.Len(t, results, 1)
	r := results[0]
	assert.Equal(t, 80.0, r.TunnelMbps)
	assert.Equal(t, 900.0, r.DirectMbps)
	assert.Positive(t, r.RouterCPUPct)
	assert.Equal(t, 2, clientCalls, "CPU sampled before and after the tunnel run only")
	assert.Equal(t, []string{
		"iperf3 -c 10.255.0.2 -p 5201 -t 1 -J --connect-timeout 5000",
		"iperf3 -c 10.4.0.91 -p 5202 -t 1 -J --connect-timeout 5000",
	}, client.commands, "tunnel first, then direct")
}

func TestReportJSONAndTable(t *testing.T) {
	t.Parallel()
	rep := Report{
		Sites:   []SiteResult{{From: "site-a", To: "site-b", TargetMs: 140.03, MeasuredMs: 141.2, ErrorPct: 0.84}},
		Tunnels: []TunnelResult{{From: "site-a", To: "site-b", TunnelMbps: 35.1, DirectMbps: 940, RouterCPUPct: 26}},
	}
	data, err := json.Marshal(rep)
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"sites": [{"from": "site-a", "to": "site-b", "targetMs": 140.03, "measuredMs": 141.2, "errorPct": 0.84}],
		"tunnels": [{"from": "site-a", "to": "site-b", "tunnelMbps": 35.1, "directMbps": 940, "routerCPUPct": 26}]
	}`, string(data), "the field names the issue fixes for harnesses")
	assert.Equal(t, `| from | to | target ms | measured ms | error % |
|---|---|---:|---:|---:|
| site-a | site-b | 140.03 | 141.20 | +0.84 |

| from | to | tunnel Mbit/s | direct Mbit/s | router CPU % |
|---|---|---:|---:|---:|
| site-a | site-b | 35.1 | 940.0 | 26 |
`, rep.Table())
}

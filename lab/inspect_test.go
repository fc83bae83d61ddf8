package lab

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/inventory"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/topology"
)

// TestInspect brings up a lab whose site a is on a simulated hypervisor and
// has latency to site b, and inspects it before and after the machines
// layer powers the VMs on, after a machine is stopped, and attached from
// "another process".
func TestInspect(t *testing.T) {
	t.Parallel()
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	topo := simTopology("labtest-inspect")
	renumber(topo, 36)
	topo.VPN = &topology.VPN{Mode: topology.VPNMesh, Transit: netip.MustParsePrefix("10.255.36.0/24")}
	topo.Latency = &topology.Latency{Links: []topology.LatencyLink{{From: "a", To: "b", RTTMs: 40}}}
	require.NoError(t, topo.Validate())
	state := t.TempDir()
	l, err := Up(ctx, topo, Options{StateDir: state})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, l.Down(context.Background())) })

	type got struct {
		container inventory.ContainerState
		vm        inventory.VMState
	}
	states := func(inv inventory.Inventory) map[string]got {
		out := map[string]got{}
		for _, m := range inv.Machines {
			out[m.Name] = got{m.Container, m.VM}
		}
		return out
	}

	inv, err := l.Inspect(ctx)
	require.NoError(t, err)
	assert.Equal(t, inventory.FromLab, inv.Source)
	assert.Equal(t, map[string]got{
		"vyos01":   {inventory.ContainerAbsent, inventory.VMAbsent},
		"master01": {inventory.ContainerAbsent, inventory.VMAbsent},
		"gw2":      {inventory.ContainerRunning, ""},
		"node01":   {inventory.ContainerRunning, ""},
	}, states(inv), "site a's machines wait for their VMs; site b's need none")
	assert.Equal(t, "vyos 1.2 stand-in", inv.Machines[0].Router, "as the lab runs it: in the VyOS stand-in")
	assert.Contains(t, strings.Join(inv.Notes, "\n"), "router vyos01 (VyOS 1.2) runs in the VyOS stand-in, not VyOS")

	relay := l.Relay()
	require.NotNil(t, relay)
	require.NotNil(t, inv.Relay)
	assert.True(t, inv.Relay.Running)
	assert.Equal(t, relay.Bind, inv.Relay.Bind)
	assert.Equal(t, [2]uint16{RelayBasePort, RelayBasePort + 1}, [2]uint16{inv.Relay.FirstPort, inv.Relay.LastPort})
	require.Len(t, inv.Relay.Paths, 1)
	assert.InDelta(t, 40, inv.Relay.Paths[0].RTTMs, 0.01)
	require.Len(t, inv.Tunnels, 1)
	for _, end := range inv.Tunnels[0].Ends {
		assert.Equal(t, relay.Bind, end.Remote.Addr(), "%s sends to the relay, not its peer", end.Router)
	}

	_, err = l.Apply(ctx, ApplyOptions{Layers: []string{layer.Machines}})
	require.NoError(t, err)
	require.NoError(t, l.Stop(ctx, "node01"))
	inv, err = l.Inspect(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]got{
		"vyos01":   {inventory.ContainerRunning, inventory.VMOn},
		"master01": {inventory.ContainerRunning, inventory.VMOn},
		"gw2":      {inventory.ContainerRunning, ""},
		"node01":   {inventory.ContainerStopped, ""},
	}, states(inv))

	attached, err := Attach(ctx, topo, Options{StateDir: state})
	require.NoError(t, err)
	inv, err = attached.Inspect(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]got{
		"vyos01":   {inventory.ContainerRunning, inventory.VMUnknown},
		"master01": {inventory.ContainerRunning, inventory.VMUnknown},
		"gw2":      {inventory.ContainerRunning, ""},
		"node01":   {inventory.ContainerStopped, ""},
	}, states(inv))
	assert.Contains(t, strings.Join(inv.Notes, "\n"), "the simulated hypervisors lived in the process that brought the lab up")
}

package layer

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wireguard"
)

func wireGuardTopology(kinds ...string) *topology.Topology {
	t := routersTopology(kinds...)
	t.VPN.Type, t.VPN.Auth, t.VPN.Port = topology.VPNTypeWireGuard, "", 0
	t.VPN.WireGuard = &topology.WireGuardVPN{PresharedKey: true}
	t.SetDefaults()
	return t
}

// The wireguard kind renders through the same seam as OpenVPN: VyOS set
// commands and Linux files, keys redacted unless asked for, and nothing
// written to the state.
func TestRenderWireGuardRouters(t *testing.T) {
	t.Parallel()
	topo := wireGuardTopology(topology.RouterVyOS, topology.RouterLinux)
	require.NoError(t, topo.Validate())
	dir := t.TempDir()
	st, err := topology.OpenState(dir)
	require.NoError(t, err)
	for _, show := range []bool{false, true} {
		env := &Env{State: st, ShowSecrets: show}
		vy, err := Render(topo, env, "r1")
		require.NoError(t, err)
		require.Len(t, vy, 1)
		assert.Contains(t, vy[0].Content, "set interfaces wireguard wg0 peer r2 address 10.4.0.91")
		assert.Contains(t, vy[0].Content, "set interfaces wireguard wg0 port 51820")
		assert.Contains(t, vy[0].Content, "set protocols static route 192.168.20.0/24 interface wg0")
		lx, err := Render(topo, env, "r2")
		require.NoError(t, err)
		var all strings.Builder
		for _, a := range lx {
			all.WriteString(a.Title + "\n" + a.Content)
		}
		assert.Contains(t, all.String(), wireguard.ConfigPath(wireguard.DefaultDir, "wg0")+" (mode 0600)")
		assert.Contains(t, all.String(), "Endpoint = 10.4.0.90:51820")
		assert.Contains(t, all.String(), "ip route replace 192.168.10.0/24 via 10.255.0.1 dev wg0 onlink")
		if show {
			assert.NotContains(t, all.String(), "PrivateKey = "+secret.Redacted)
			assert.NotContains(t, vy[0].Content, "private-key '"+secret.Redacted)
		} else {
			assert.Contains(t, all.String(), "PrivateKey = "+secret.Redacted)
			assert.Contains(t, all.String(), "PresharedKey = "+secret.Redacted)
			assert.Contains(t, vy[0].Content, "private-key '"+secret.Redacted+"'")
			assert.Contains(t, vy[0].Content, "preshared-key '"+secret.Redacted+"'")
		}
	}
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			files = append(files, p)
		}
		return err
	}))
	assert.Empty(t, files, "render wrote into the state")
}

// A topology a VyOS version cannot carry fails at plan time, naming
// what: a port below 1024 on 1.2 is a topology error at vpn.port, and
// latency on hardware (netem on the tunnels, not the lab's relay) through
// a 1.3 router's WireGuard interface is the router's error.
func TestWireGuardVyOSVersionLimits(t *testing.T) {
	t.Parallel()
	st, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)

	topo := wireGuardTopology(topology.RouterVyOS, topology.RouterLinux)
	topo.Sites[0].Router.Version = "1.2"
	topo.VPN.Port = 500
	_, err = Plan(topo, &Env{State: st}, Routers)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "vpn.port: 500: WireGuard on VyOS 1.2 (sites[0].router r1)")

	topo = wireGuardTopology(topology.RouterVyOS, topology.RouterLinux)
	topo.Sites[0].Router.Version = "1.3"
	env := planetEnv(t, topo)
	env.State = st
	_, err = Plan(topo, env, Routers)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `router "r1": latency on WireGuard tunnels needs VyOS 1.4+`)

	topo.Sites[0].Router.Version = "1.4"
	_, err = Plan(topo, env, Routers)
	assert.NoError(t, err, "1.4 shapes wgN with qos")
}

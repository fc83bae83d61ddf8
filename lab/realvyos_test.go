package lab_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/lab/labtest"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/vyos"
)

// realVyOS is two sites whose routers are VyOS, on addresses of their own
// (not the thesis lab's 10.4.0.0/16), so that it runs beside a thesis lab.
const realVyOS = `apiVersion: planetstage.io/v1alpha1
kind: Topology
name: vytreal
underlay: {prefix: 10.40.0.0/16}
sites:
- {name: a, vlan: 10, prefix: 172.40.110.0/24, router: {name: vytr1, kind: vyos, version: "1.4", wan: 10.40.0.190, lan: 172.40.110.1}, hosts: [{name: vytha, address: 172.40.110.101, role: generic}]}
- {name: b, vlan: 20, prefix: 172.40.120.0/24, router: {name: vytr2, kind: vyos, version: "1.4", wan: 10.40.0.191, lan: 172.40.120.1}, hosts: [{name: vythb, address: 172.40.120.101, role: generic}]}
vpn: {mode: mesh, auth: tls, transit: 10.255.0.0/16, port: 1194}
`

// TestRealVyOS runs the routers in the real VyOS image that
// PLANETSTAGE_VYOS_IMAGE names (PLANETSTAGE_VYOS_VERSION: the version it
// runs), as the lab runs it for a user: started privileged with its own
// init, the lab's key installed through VyOS's configuration, then
// configured by package vyos over SSH. It checks the read-back over SSH,
// LAN-to-LAN reachability through the tunnel, and that a second apply
// changes nothing. It has NOT run on the machines that build planetstage:
// no VyOS image exists there (see the package doc for how to build one).
func TestRealVyOS(t *testing.T) {
	image := os.Getenv(lab.EnvVyOSImage)
	if image == "" {
		t.Skipf("%s is not set: no VyOS image exists here; build one from a VyOS ISO (see the lab package doc) and set it with %s", lab.EnvVyOSImage, lab.EnvVyOSVersion)
	}
	topo, err := topology.Parse("vytreal.yaml", []byte(realVyOS))
	require.NoError(t, err)
	l := labtest.Up(t, topo, lab.Options{VyOSImage: image, VyOSVersion: os.Getenv(lab.EnvVyOSVersion)})
	ctx := t.Context()

	for _, r := range l.Routers() {
		assert.Equal(t, lab.RouterVyOS, r.Kind, r.Name)
	}
	for _, name := range []string{"vytr1", "vytr2"} {
		r, err := l.Dial(ctx, name)
		require.NoError(t, err)
		running, err := vyos.Running(ctx, r)
		require.NoError(t, err)
		var lines []string
		for _, c := range running {
			lines = append(lines, strings.Join(c.Path, " "))
		}
		assert.Contains(t, strings.Join(lines, "\n"), "interfaces openvpn vtun0 mode site-to-site", name)
	}
	m, err := l.Matrix(ctx)
	require.NoError(t, err)
	p, ok := m.Pair("vytha", "vythb")
	require.True(t, ok)
	assert.True(t, p.Reachable, "LAN to LAN through the tunnel:\n%s", m.Table())
	assert.Empty(t, m.Unreachable(), m.Table())

	res, err := l.Apply(ctx, lab.ApplyOptions{})
	require.NoError(t, err)
	for _, s := range res.Steps {
		assert.Equal(t, plan.NoOp, s.Action, "second apply changed %s: %s", s.ID, s.Reason)
	}
}

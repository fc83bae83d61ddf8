package labtest_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/lab/labtest"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
)

// testbed is what a user's test would load from a file: two sites, Linux
// routers, a tunnel, a host in each site.
const testbed = `apiVersion: planetstage.io/v1alpha1
kind: Topology
name: my-testbed
underlay: {prefix: 10.37.0.0/16}
sites:
- name: tokyo
  vlan: 10
  prefix: 172.37.10.0/24
  router: {name: r1, kind: linux, wan: 10.37.0.90, lan: 172.37.10.1}
  hosts: [{name: peer1, address: 172.37.10.101, role: generic}]
- name: lima
  vlan: 20
  prefix: 172.37.20.0/24
  router: {name: r2, kind: linux, wan: 10.37.0.91, lan: 172.37.20.1}
  hosts: [{name: peer2, address: 172.37.20.101, role: generic}]
vpn: {mode: mesh, auth: tls, transit: 10.255.0.0/16, port: 1194}
`

// The package doc's test, run: two of them at once on the same topology,
// which take turns instead of colliding, each getting a lab that already
// carries traffic between the sites.
func TestUp(t *testing.T) {
	topo, err := topology.Parse("testbed.yaml", []byte(testbed))
	require.NoError(t, err)
	for _, name := range []string{"first", "second"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l := labtest.Up(t, topo, lab.Options{})
			assert.Equal(t, labtest.LabName(t.Name(), "my-testbed"), l.Name())
			assert.Equal(t, "my-testbed", topo.Name, "the caller's topology is not changed")
			m, err := l.Matrix(t.Context())
			require.NoError(t, err)
			assert.Empty(t, m.Unreachable(), "Up returns once every pair answers:\n%s", m.Table())
			r, err := l.Dial(t.Context(), "peer1")
			require.NoError(t, err)
			out, err := remote.Output(t.Context(), r, "ip route get 172.37.20.101")
			require.NoError(t, err)
			assert.Contains(t, out, "via 172.37.10.1", "to the other site through its router")
		})
	}
}

func TestLabName(t *testing.T) {
	t.Parallel()
	a, b := labtest.LabName("TestA", "thesis"), labtest.LabName("TestB", "thesis")
	assert.NotEqual(t, a, b)
	assert.True(t, strings.HasPrefix(a, "thesis-"))
	assert.Equal(t, a, labtest.LabName("TestA", "thesis"), "stable")
	long := labtest.LabName("TestA", strings.Repeat("planetary-", 6))
	assert.LessOrEqual(t, len(long), 32)
	assert.NotContains(t, long, "--")
}

func TestRanges(t *testing.T) {
	t.Parallel()
	topo, err := topology.Parse("testbed.yaml", []byte(testbed))
	require.NoError(t, err)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.37.0.0/16"), netip.MustParsePrefix("172.37.10.0/24"), netip.MustParsePrefix("172.37.20.0/24")},
		labtest.Ranges(topo))
}

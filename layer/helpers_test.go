package layer

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/topology"
)

// thesisFile is the thesis testbed's topology file, shared with package
// topology's tests and the thesis example.
const thesisFile = "../topology/testdata/thesis.yaml"

func loadThesis(t testing.TB) *topology.Topology {
	t.Helper()
	top, err := topology.Load(thesisFile)
	require.NoError(t, err)
	return top
}

// geoThesis is the thesis with its sites in Tokyo, Frankfurt and São Paulo
// and one link set by hand.
func geoThesis(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(thesisFile)
	require.NoError(t, err)
	s := string(data)
	s = strings.Replace(s, "  hypervisor: esxi1\n", "  hypervisor: esxi1\n  location: {city: Tokyo}\n", 1)
	s = strings.Replace(s, "  vlan: 20\n", "  vlan: 20\n  location: {city: Frankfurt}\n", 1)
	s = strings.Replace(s, "  vlan: 30\n", "  vlan: 30\n  location: {lat: -23.55, lon: -46.63}\n", 1)
	return s + "latency:\n  inflation: 1.5\n  links:\n  - {from: site-b, to: site-c, rttMs: 120, jitterMs: 2, lossPct: 0.1}\n"
}

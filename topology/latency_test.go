package topology

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// geoThesis is the thesis with its sites in Tokyo, Frankfurt and São Paulo
// and one link set by hand.
const geoLatency = `latency:
  inflation: 1.5
  links:
  - {from: site-b, to: site-c, rttMs: 120, jitterMs: 2, lossPct: 0.1}
`

func geoThesis(t *testing.T) string {
	t.Helper()
	s := mustRead(t, "testdata/thesis.yaml")
	s = strings.Replace(s, "  hypervisor: esxi1\n", "  hypervisor: esxi1\n  location: {city: Tokyo}\n", 1)
	s = strings.Replace(s, "  vlan: 20\n", "  vlan: 20\n  location: {city: Frankfurt}\n", 1)
	s = strings.Replace(s, "  vlan: 30\n", "  vlan: 30\n  location: {lat: -23.55, lon: -46.63}\n", 1)
	return s + geoLatency
}

func TestLatencyFromTheTopologyFile(t *testing.T) {
	t.Parallel()
	top, err := Parse("geo.yaml", []byte(geoThesis(t)))
	require.NoError(t, err)
	m := top.LatencyModel()
	require.NotNil(t, m)
	assert.Equal(t, "Tokyo", m.Sites[0].City)
	require.NotNil(t, m.Sites[2].Location)
	assert.InDelta(t, -23.55, m.Sites[2].Location.Lat, 1e-9)
	require.Len(t, m.Links, 1)
	assert.Equal(t, 120*time.Millisecond, m.Links[0].RTT)

	assert.Nil(t, loadThesis(t).LatencyModel(), "no locations, no links: no latency")
}

func TestLatencyValidation(t *testing.T) {
	t.Parallel()
	bad := strings.NewReplacer(
		"{city: Tokyo}", "{city: Atlantis}",
		"{lat: -23.55, lon: -46.63}", "{lat: -123.55, lon: -46.63}",
		"from: site-b", "from: site-z",
		"rttMs: 120", "rttMs: 0",
		"lossPct: 0.1", "lossPct: 140",
		"inflation: 1.5", "inflation: 0.5",
	).Replace(geoThesis(t))
	_, err := Parse("geo.yaml", []byte(bad))
	require.Error(t, err)
	for _, want := range []string{
		`sites[0].location.city: unknown city "Atlantis"`,
		`sites[2].location: lat -123.55`,
		`latency.links[0].from: unknown site "site-z"`,
		`latency.links[0].rttMs: 0: want a round-trip time above 0 ms`,
		`latency.links[0].lossPct: 140`,
		`latency.inflation: 0.5`,
	} {
		assert.Contains(t, err.Error(), want)
	}
}

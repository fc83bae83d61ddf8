package topology

import (
	"math"
	"net/netip"
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

func TestPlaceSites(t *testing.T) {
	t.Parallel()
	top := loadThesis(t)
	require.Nil(t, top.LatencyModel(), "the thesis has no latency of its own")
	require.NoError(t, top.PlaceSites("planet"))
	var cities []string
	for _, s := range top.Sites {
		require.NotNil(t, s.Location, s.Name)
		cities = append(cities, s.Location.City)
	}
	assert.Equal(t, []string{"Tokyo", "Frankfurt", "São Paulo"}, cities)
	assert.NotNil(t, top.LatencyModel())
	require.NoError(t, top.Validate())

	unchanged := loadThesis(t)
	require.NoError(t, unchanged.PlaceSites(""))
	assert.Nil(t, unchanged.Sites[0].Location)
	assert.ErrorContains(t, unchanged.PlaceSites("mars"), `geo preset "mars": unknown`)
	assert.Nil(t, unchanged.Sites[0].Location, "a bad preset changes nothing")
}

func TestWithHost(t *testing.T) {
	t.Parallel()
	top := loadThesis(t)
	h := Host{Name: "node05", Address: netip.MustParseAddr("192.168.20.103"), Role: RoleWorker}
	grown, err := top.WithHost("site-b", h)
	require.NoError(t, err)
	m, ok := grown.Machine("node05")
	require.True(t, ok)
	assert.Equal(t, "site-b", m.Site.Name)
	_, ok = top.Machine("node05")
	assert.False(t, ok, "the original is unchanged")
	_, err = top.WithHost("site-z", h)
	assert.ErrorContains(t, err, `no site "site-z"`)
}

// NaN passes every comparison and Inf every lower bound: each number must
// be finite before it is compared (issue 19: "inflation: nan" was valid).
func TestLatencyRejectsNonFiniteNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct{ from, to, path string }{
		{"inflation: 1.5", "inflation: nan", "latency.inflation"},
		{"inflation: 1.5", "inflation: inf", "latency.inflation"},
		{"inflation: 1.5", "inflation: -inf", "latency.inflation"},
		{"rttMs: 120", "rttMs: inf", "latency.links[0].rttMs"},
		{"rttMs: 120", "rttMs: nan", "latency.links[0].rttMs"},
		{"jitterMs: 2", "jitterMs: NaN", "latency.links[0].jitterMs"},
		{"jitterMs: 2", "jitterMs: +Inf", "latency.links[0].jitterMs"},
		{"lossPct: 0.1", "lossPct: nan", "latency.links[0].lossPct"},
		{"{lat: -23.55, lon: -46.63}", "{lat: nan, lon: -46.63}", "sites[2].location.lat"},
		{"{lat: -23.55, lon: -46.63}", "{lat: -23.55, lon: infinity}", "sites[2].location.lon"},
		{"{city: Tokyo}", "{city: Tokyo, lat: nan}", "sites[0].location.lat"},
	}
	for _, tt := range tests {
		t.Run(tt.to, func(t *testing.T) {
			t.Parallel()
			file := geoThesis(t)
			require.Contains(t, file, tt.from)
			_, err := Parse("geo.yaml", []byte(strings.Replace(file, tt.from, tt.to, 1)))
			var ps Problems
			require.ErrorAs(t, err, &ps)
			require.Len(t, ps, 1, "one problem: %v", err)
			assert.Equal(t, tt.path, ps[0].Path)
			assert.Contains(t, ps[0].Message, "is not a finite number")
			assert.NotZero(t, ps[0].Line, "the problem has its line")
		})
	}

	// A topology built in Go is checked the same way.
	top, err := Parse("geo.yaml", []byte(geoThesis(t)))
	require.NoError(t, err)
	top.Latency.Links[0].RTTMs = math.Inf(1)
	assert.ErrorContains(t, top.Validate(), "latency.links[0].rttMs: +Inf is not a finite number")
}

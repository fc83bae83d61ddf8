package wan

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func city(t *testing.T, name string) Coord {
	t.Helper()
	c, ok := LookupCity(name)
	require.True(t, ok, "city %q", name)
	return c.Coord
}

// Published great-circle distances between city centres (the figures
// that distance calculators such as the "Tokyo–London ≈ 9 560 km"
// quote). 1 % covers the different city-centre points they use.
func TestDistanceKnownCityPairs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		km   float64
	}{
		{"Tokyo", "London", 9560},
		{"New York", "London", 5570},
		{"Sydney", "London", 16990},
		{"Frankfurt", "Tokyo", 9350},
		{"São Paulo", "Frankfurt", 9800},
		{"Los Angeles", "New York", 3940},
		{"Paris", "London", 344},
	} {
		t.Run(tc.a+"-"+tc.b, func(t *testing.T) {
			t.Parallel()
			got := DistanceKm(city(t, tc.a), city(t, tc.b))
			assert.InEpsilon(t, tc.km, got, 0.01, "got %.0f km", got)
			assert.InDelta(t, got, DistanceKm(city(t, tc.b), city(t, tc.a)), 1e-9, "distance must be symmetric")
		})
	}
}

func TestDistanceGeometry(t *testing.T) {
	t.Parallel()
	halfCircumference := math.Pi * EarthRadiusKm
	for _, tc := range []struct {
		name string
		a, b Coord
		km   float64
	}{
		{"same point", Coord{35, 139}, Coord{35, 139}, 0},
		{"pole to pole", Coord{90, 0}, Coord{-90, 0}, halfCircumference},
		{"antipodes on the equator", Coord{0, 0}, Coord{0, 180}, halfCircumference},
		{"a quarter of the equator", Coord{0, 0}, Coord{0, 90}, halfCircumference / 2},
		{"across the date line", Coord{0, 179}, Coord{0, -179}, 2 * math.Pi * EarthRadiusKm / 180},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.InDelta(t, tc.km, DistanceKm(tc.a, tc.b), 1e-6)
		})
	}
}

func TestRTTForDistance(t *testing.T) {
	t.Parallel()
	// 2 × 10 000 km × 1.5 / 200 000 km/s = 150 ms.
	assert.Equal(t, 150*time.Millisecond, RTTForDistance(10000, 0))
	assert.Equal(t, 100*time.Millisecond, RTTForDistance(10000, 1))
	assert.Equal(t, 200*time.Millisecond, RTTForDistance(10000, 2))
	assert.Zero(t, RTTForDistance(0, 1.5))
}

func TestLookupCity(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"São Paulo", "sao paulo", "SAO-PAULO", "saopaulo"} {
		c, ok := LookupCity(name)
		require.True(t, ok, name)
		assert.Equal(t, "São Paulo", c.Name)
	}
	_, ok := LookupCity("Atlantis")
	assert.False(t, ok)
	names := Cities()
	assert.GreaterOrEqual(t, len(names), 40)
	assert.IsNonDecreasing(t, names)
	seen := map[string]bool{}
	for _, c := range cities {
		require.NoError(t, c.Validate(), c.Name)
		key := cityKey(c.Name)
		assert.False(t, seen[key], "%s appears twice", c.Name)
		seen[key] = true
	}
}

func geoModel() Model {
	return Model{Sites: []Site{
		{Name: "tokyo", City: "Tokyo"},
		{Name: "frankfurt", Location: &Coord{50.11, 8.68}},
		{Name: "saopaulo", City: "sao paulo"},
	}}
}

func TestModelMatrixFromCoordinates(t *testing.T) {
	t.Parallel()
	m := geoModel()
	entries, err := m.Matrix(nil)
	require.NoError(t, err)
	require.Len(t, entries, 3)
	// Sorted by pair; every pair in sorted order.
	assert.Equal(t, Pair{"frankfurt", "saopaulo"}, entries[0].Pair)
	assert.Equal(t, Pair{"frankfurt", "tokyo"}, entries[1].Pair)
	assert.Equal(t, Pair{"saopaulo", "tokyo"}, entries[2].Pair)
	for _, e := range entries {
		assert.False(t, e.Explicit)
		assert.Equal(t, RTTForDistance(e.DistanceKm, DefaultInflation), e.RTT, e.Pair.String())
	}
	// Frankfurt–Tokyo ≈ 9 350 km → 2 × 9 350 × 1.5 / 200 000 s ≈ 140 ms.
	assert.InDelta(t, float64(140*time.Millisecond), float64(entries[1].RTT), float64(2*time.Millisecond))

	m.Inflation = 2
	e, err := m.Lookup("tokyo", "frankfurt")
	require.NoError(t, err)
	assert.Equal(t, RTTForDistance(e.DistanceKm, 2), e.RTT)
}

func TestModelExplicitLinksOverride(t *testing.T) {
	t.Parallel()
	m := geoModel()
	m.Sites = append(m.Sites, Site{Name: "lab"}) // no place: only explicit links reach it
	m.Links = []Explicit{
		{From: "tokyo", To: "frankfurt", Link: Link{RTT: 230 * time.Millisecond, Jitter: 3 * time.Millisecond, LossPct: 0.5}},
		{From: "lab", To: "tokyo", Link: Link{RTT: 5 * time.Millisecond}},
	}
	e, err := m.Lookup("frankfurt", "tokyo")
	require.NoError(t, err)
	assert.True(t, e.Explicit)
	assert.Equal(t, Link{RTT: 230 * time.Millisecond, Jitter: 3 * time.Millisecond, LossPct: 0.5}, e.Link)
	assert.InEpsilon(t, 9350, e.DistanceKm, 0.01, "the distance is still reported")

	e, err = m.Lookup("tokyo", "lab")
	require.NoError(t, err)
	assert.Equal(t, 5*time.Millisecond, e.RTT)
	assert.Zero(t, e.DistanceKm)

	_, err = m.Lookup("lab", "frankfurt")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `frankfurt<->lab`)
	assert.Contains(t, err.Error(), `site "lab" has no location or city`)

	// Only the pairs asked for must resolve (a hub-and-spoke VPN has no
	// spoke-to-spoke tunnel).
	entries, err := m.Matrix([]Pair{NewPair("tokyo", "lab"), NewPair("tokyo", "frankfurt")})
	require.NoError(t, err)
	assert.Len(t, entries, 2)
	_, err = m.Matrix(nil)
	require.Error(t, err, "all pairs include lab<->frankfurt, which nothing sets")
}

func TestModelValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mutate func(*Model)
		want   []string
	}{
		{"unknown city", func(m *Model) { m.Sites[0].City = "Atlantis" }, []string{`sites[0].city (site "tokyo"): unknown city "Atlantis"`, "Tokyo"}},
		{"both place kinds", func(m *Model) { m.Sites[0].Location = &Coord{1, 2} }, []string{`sites[0] (site "tokyo"): set location or city, not both`}},
		{"bad latitude", func(m *Model) { m.Sites[1].Location = &Coord{Lat: 91} }, []string{`sites[1].location (site "frankfurt"): lat 91`}},
		{"bad longitude", func(m *Model) { m.Sites[1].Location = &Coord{Lon: -181} }, []string{`sites[1].location (site "frankfurt"): lon -181`}},
		{"duplicate site", func(m *Model) { m.Sites[2].Name = "tokyo" }, []string{`sites[2].name: site "tokyo" appears twice`}},
		{"empty name", func(m *Model) { m.Sites[2].Name = "" }, []string{`sites[2].name: empty`}},
		{"inflation below 1", func(m *Model) { m.Inflation = 0.5 }, []string{"inflation 0.5"}},
		{"link to unknown site", func(m *Model) {
			m.Links = []Explicit{{From: "tokyo", To: "mars", Link: Link{RTT: time.Second}}}
		}, []string{`links[0].to: unknown site "mars"`}},
		{"link to itself", func(m *Model) {
			m.Links = []Explicit{{From: "tokyo", To: "tokyo"}}
		}, []string{`links[0]: from and to are both "tokyo"`}},
		{"duplicate link", func(m *Model) {
			m.Links = []Explicit{{From: "tokyo", To: "frankfurt"}, {From: "frankfurt", To: "tokyo"}}
		}, []string{`links[1]: pair frankfurt<->tokyo already set by links[0]`}},
		{"bad link values", func(m *Model) {
			m.Links = []Explicit{{From: "tokyo", To: "frankfurt", Link: Link{RTT: 10 * time.Millisecond, Jitter: 6 * time.Millisecond, LossPct: 150}}}
		}, []string{"links[0] (frankfurt<->tokyo): jitter 6ms: must not exceed the one-way delay 5ms"}},
		{"every error at once", func(m *Model) {
			m.Sites[0].City = "Atlantis"
			m.Inflation = 0.9
		}, []string{"Atlantis", "inflation 0.9"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := geoModel()
			tc.mutate(&m)
			err := m.Validate()
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			_, err = m.Matrix(nil)
			assert.Error(t, err, "Matrix must refuse an invalid model")
		})
	}
	assert.NoError(t, geoModel().Validate())
}

func TestModelEnabled(t *testing.T) {
	t.Parallel()
	assert.True(t, geoModel().Enabled())
	assert.False(t, Model{Sites: []Site{{Name: "a"}, {Name: "b"}}}.Enabled())
	assert.True(t, Model{Sites: []Site{{Name: "a"}, {Name: "b"}}, Links: []Explicit{{From: "a", To: "b"}}}.Enabled())
}

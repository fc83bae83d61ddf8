package wan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGeoPreset(t *testing.T) {
	t.Parallel()
	sites, err := GeoPreset("planet", []string{"site-a", "site-b", "site-c"})
	require.NoError(t, err)
	assert.Equal(t, []Site{{Name: "site-a", City: "Tokyo"}, {Name: "site-b", City: "Frankfurt"}, {Name: "site-c", City: "São Paulo"}}, sites)

	for _, name := range GeoPresets() {
		cities := geoPresets[name]
		names := make([]string, len(cities))
		for i := range names {
			names[i] = string(rune('a' + i))
		}
		sites, err := GeoPreset(name, names)
		require.NoError(t, err, name)
		m := Model{Sites: sites}
		entries, err := m.Matrix(nil)
		require.NoError(t, err, "preset %s must use only built-in cities", name)
		assert.Len(t, entries, len(cities)*(len(cities)-1)/2)
	}

	_, err = GeoPreset("mars", []string{"a"})
	assert.ErrorContains(t, err, `geo preset "mars": unknown; presets are atlantic, europe, pacific, planet, planet50`)
	_, err = GeoPreset("planet", make([]string, 7))
	assert.ErrorContains(t, err, "places 6 sites, the topology has 7")
}

func TestPlanet50(t *testing.T) {
	t.Parallel()
	cities, hubs, err := GeoPresetCities("planet50")
	require.NoError(t, err)
	assert.Len(t, cities, 50)
	seen := map[string]bool{}
	for _, c := range cities {
		assert.False(t, seen[c], "%s twice", c)
		seen[c] = true
		_, ok := LookupCity(c)
		assert.True(t, ok, c)
	}
	assert.Equal(t, cities[:len(hubs)], hubs, "the hubs come first")
	// Six continents: latitude and longitude boxes wide enough to hold
	// each continent's cities of the table.
	continent := func(c Coord) string {
		switch {
		case c.Lon < -30 && c.Lat > 12:
			return "North America"
		case c.Lon < -30:
			return "South America"
		case c.Lon > 110 && c.Lat < -10:
			return "Oceania"
		case c.Lon > 45 || (c.Lon > 34 && c.Lat > 31.5 && c.Lat < 33):
			return "Asia"
		case c.Lat < 36 && c.Lon < 45:
			return "Africa"
		}
		return "Europe"
	}
	per := map[string]int{}
	for _, c := range cities {
		city, _ := LookupCity(c)
		per[continent(city.Coord)]++
	}
	assert.Len(t, per, 6, "%v", per)
	for name, n := range per {
		assert.GreaterOrEqual(t, n, 2, name)
	}
}

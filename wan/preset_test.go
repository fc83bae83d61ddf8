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
	assert.ErrorContains(t, err, `geo preset "mars": unknown; presets are atlantic, europe, pacific, planet`)
	_, err = GeoPreset("planet", make([]string, 7))
	assert.ErrorContains(t, err, "places 6 sites, the topology has 7")
}

package wan

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// geoPresets place a testbed's sites, in site order, for a `--geo` flag:
// spread over continents so that the RTTs are planetary.
var geoPresets = map[string][]string{
	// The example: three continents, 140–280 ms apart.
	"planet":   {"Tokyo", "Frankfurt", "São Paulo", "New York", "Sydney", "Johannesburg"},
	"pacific":  {"Tokyo", "San Francisco", "Sydney", "Singapore", "Seattle", "Auckland"},
	"atlantic": {"New York", "London", "São Paulo", "Lagos", "Miami", "Madrid"},
	"europe":   {"Frankfurt", "London", "Madrid", "Stockholm", "Warsaw", "Milan"},
	// Planetary scale: 50 cities on six continents, the hubs of
	// presetHubs first.
	"planet50": {
		"Frankfurt", "Singapore", "Tokyo", "New York", "São Paulo", "Johannesburg",
		// Europe
		"London", "Dublin", "Paris", "Amsterdam", "Zurich", "Milan", "Madrid", "Stockholm", "Warsaw", "Moscow", "Istanbul",
		// Asia and Oceania
		"Osaka", "Seoul", "Beijing", "Shanghai", "Hong Kong", "Taipei", "Manila", "Bangkok", "Jakarta", "Mumbai", "Delhi",
		"Dubai", "Tel Aviv", "Sydney", "Melbourne", "Perth", "Auckland",
		// Africa
		"Cairo", "Lagos", "Nairobi", "Cape Town", "Casablanca", "Accra",
		// North America
		"Washington", "Toronto", "Chicago", "Miami", "Dallas", "Los Angeles", "Seattle", "Mexico City",
		// South America
		"Bogotá", "Buenos Aires",
	},
}

// presetHubs are a preset's regional hubs (vpn.mode regional): the
// exchange cities of its continents.
var presetHubs = map[string][]string{
	"planet50": {"Frankfurt", "Singapore", "Tokyo", "New York", "São Paulo", "Johannesburg"},
}

// GeoPresetCities returns the cities of the preset called name, in order,
// and its regional hubs (none for a preset without).
func GeoPresetCities(name string) (cities, hubs []string, err error) {
	c, ok := geoPresets[name]
	if !ok {
		return nil, nil, fmt.Errorf("geo preset %q: unknown; presets are %s", name, strings.Join(GeoPresets(), ", "))
	}
	return slices.Clone(c), slices.Clone(presetHubs[name]), nil
}

// GeoPresets returns the names of the built-in placements, sorted.
func GeoPresets() []string {
	return slices.Sorted(maps.Keys(geoPresets))
}

// GeoPreset places sites (by name, in order) in the cities of the preset
// called name. It fails for an unknown preset or more sites than the preset
// has cities.
func GeoPreset(name string, sites []string) ([]Site, error) {
	cities, ok := geoPresets[name]
	if !ok {
		return nil, fmt.Errorf("geo preset %q: unknown; presets are %s", name, strings.Join(GeoPresets(), ", "))
	}
	if len(sites) > len(cities) {
		return nil, fmt.Errorf("geo preset %q: places %d sites, the topology has %d", name, len(cities), len(sites))
	}
	out := make([]Site, len(sites))
	for i, s := range sites {
		out[i] = Site{Name: s, City: cities[i]}
	}
	return out, nil
}

package wan

import (
	"slices"
	"strings"
)

// cities is the built-in table of major cities, chosen for where Internet
// exchange points and cloud regions are. Coordinates are the city-centre
// points (WGS 84) given in each city's English Wikipedia article, rounded
// to 0.01° (≈ 1 km, negligible next to the model's route inflation).
// The tests check a few great-circle distances against published values.
var cities = []City{
	// Asia and Oceania
	{"Tokyo", Coord{35.69, 139.69}},
	{"Osaka", Coord{34.69, 135.50}},
	{"Seoul", Coord{37.57, 126.98}},
	{"Beijing", Coord{39.90, 116.41}},
	{"Shanghai", Coord{31.23, 121.47}},
	{"Hong Kong", Coord{22.30, 114.20}},
	{"Singapore", Coord{1.29, 103.85}},
	{"Bangkok", Coord{13.76, 100.50}},
	{"Manila", Coord{14.60, 120.98}},
	{"Taipei", Coord{25.03, 121.57}},
	{"Jakarta", Coord{-6.18, 106.83}},
	{"Mumbai", Coord{19.08, 72.88}},
	{"Delhi", Coord{28.61, 77.23}},
	{"Dubai", Coord{25.26, 55.30}},
	{"Tel Aviv", Coord{32.09, 34.78}},
	{"Sydney", Coord{-33.87, 151.21}},
	{"Melbourne", Coord{-37.81, 144.96}},
	{"Perth", Coord{-31.95, 115.86}},
	{"Auckland", Coord{-36.85, 174.76}},
	// Europe
	{"London", Coord{51.51, -0.13}},
	{"Dublin", Coord{53.35, -6.26}},
	{"Paris", Coord{48.86, 2.35}},
	{"Amsterdam", Coord{52.37, 4.90}},
	{"Frankfurt", Coord{50.11, 8.68}},
	{"Zurich", Coord{47.37, 8.54}},
	{"Milan", Coord{45.46, 9.19}},
	{"Madrid", Coord{40.42, -3.70}},
	{"Stockholm", Coord{59.33, 18.07}},
	{"Warsaw", Coord{52.23, 21.01}},
	{"Moscow", Coord{55.76, 37.62}},
	{"Istanbul", Coord{41.01, 28.96}},
	// Africa
	{"Cairo", Coord{30.04, 31.24}},
	{"Lagos", Coord{6.45, 3.40}},
	{"Nairobi", Coord{-1.29, 36.82}},
	{"Johannesburg", Coord{-26.20, 28.05}},
	{"Cape Town", Coord{-33.92, 18.42}},
	{"Casablanca", Coord{33.57, -7.59}},
	{"Accra", Coord{5.60, -0.19}},
	// North America
	{"New York", Coord{40.71, -74.01}},
	{"Washington", Coord{38.90, -77.02}},
	{"Toronto", Coord{43.65, -79.38}},
	{"Montreal", Coord{45.50, -73.57}},
	{"Chicago", Coord{41.88, -87.63}},
	{"Miami", Coord{25.78, -80.21}},
	{"Dallas", Coord{32.78, -96.81}},
	{"Los Angeles", Coord{34.05, -118.24}},
	{"San Francisco", Coord{37.78, -122.42}},
	{"Seattle", Coord{47.61, -122.33}},
	{"Vancouver", Coord{49.28, -123.12}},
	{"Denver", Coord{39.74, -104.99}},
	{"Mexico City", Coord{19.43, -99.13}},
	// South America
	{"Bogotá", Coord{4.71, -74.07}},
	{"Lima", Coord{-12.05, -77.04}},
	{"São Paulo", Coord{-23.55, -46.63}},
	{"Santiago", Coord{-33.45, -70.67}},
	{"Buenos Aires", Coord{-34.60, -58.38}},
}

// City is an entry of the built-in city table.
type City struct {
	Name string
	Coord
}

// LookupCity finds a city of the built-in table by name. The match ignores
// case, spaces, hyphens and the accents of the table's names, so "sao-paulo",
// "São Paulo" and "SAOPAULO" all name the same city.
func LookupCity(name string) (City, bool) {
	key := cityKey(name)
	for _, c := range cities {
		if cityKey(c.Name) == key {
			return c, true
		}
	}
	return City{}, false
}

// Cities returns the names of the built-in cities, sorted.
func Cities() []string {
	names := make([]string, len(cities))
	for i, c := range cities {
		names[i] = c.Name
	}
	slices.Sort(names)
	return names
}

var unaccent = strings.NewReplacer("á", "a", "ã", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ç", "c")

// CityLabel is a city's name as a DNS label, for site names: lower case,
// accents dropped, every run of other characters one '-' ("São Paulo" is
// "sao-paulo").
func CityLabel(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range unaccent.Replace(strings.ToLower(name)) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	return b.String()
}

func cityKey(name string) string {
	name = unaccent.Replace(strings.ToLower(name))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '_' || r == '.' {
			return -1
		}
		return r
	}, name)
}

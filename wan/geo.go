package wan

import (
	"fmt"
	"math"
	"time"
)

// The constants of the latency model. See the package documentation for
// where they come from.
const (
	// EarthRadiusKm is the mean Earth radius (IUGG), used by the haversine
	// formula.
	EarthRadiusKm = 6371.0
	// FiberKmPerSecond is the speed of light in optical fibre: c divided by
	// a refractive index of about 1.47–1.5, i.e. roughly two thirds of c.
	FiberKmPerSecond = 200_000.0
	// DefaultInflation is how much longer than the great circle a real
	// fibre route is assumed to be, when the model does not say otherwise.
	DefaultInflation = 1.5
)

// Coord is a point on the Earth in decimal degrees (WGS 84): Lat is north
// positive, Lon is east positive.
type Coord struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Validate reports a latitude outside [-90, 90] or a longitude outside
// [-180, 180].
func (c Coord) Validate() error {
	switch {
	case math.IsNaN(c.Lat) || c.Lat < -90 || c.Lat > 90:
		return fmt.Errorf("lat %v: want a value in [-90, 90]", c.Lat)
	case math.IsNaN(c.Lon) || c.Lon < -180 || c.Lon > 180:
		return fmt.Errorf("lon %v: want a value in [-180, 180]", c.Lon)
	}
	return nil
}

// DistanceKm is the great-circle distance between a and b in kilometres,
// by the haversine formula on a sphere of radius EarthRadiusKm. The sphere
// is off the ellipsoid by at most about 0.5 %, far less than the route
// inflation the model then applies.
func DistanceKm(a, b Coord) float64 {
	rad := math.Pi / 180
	φ1, φ2 := a.Lat*rad, b.Lat*rad
	dφ := (b.Lat - a.Lat) * rad
	dλ := (b.Lon - a.Lon) * rad
	h := math.Sin(dφ/2)*math.Sin(dφ/2) + math.Cos(φ1)*math.Cos(φ2)*math.Sin(dλ/2)*math.Sin(dλ/2)
	// Rounding can push h a hair above 1 for antipodal points.
	h = math.Min(1, h)
	return 2 * EarthRadiusKm * math.Asin(math.Sqrt(h))
}

// RTTForDistance is the model's round-trip time over a great-circle
// distance: 2 × distance × inflation / FiberKmPerSecond. An inflation of 0
// means DefaultInflation.
func RTTForDistance(distanceKm, inflation float64) time.Duration {
	if inflation == 0 {
		inflation = DefaultInflation
	}
	seconds := 2 * distanceKm * inflation / FiberKmPerSecond
	return time.Duration(math.Round(seconds * float64(time.Second)))
}

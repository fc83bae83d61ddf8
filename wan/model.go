package wan

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Link is the emulated WAN between two sites, the same in both directions.
type Link struct {
	// RTT is the round-trip time; each direction is delayed by RTT/2.
	RTT time.Duration
	// Jitter varies each datagram's one-way delay uniformly within
	// ±Jitter. Zero keeps datagrams in order.
	Jitter time.Duration
	// LossPct is the chance, in percent, that a datagram is dropped, taken
	// independently in each direction.
	LossPct float64
}

// OneWay is what the link does to datagrams in one direction.
func (l Link) OneWay() Shape {
	return Shape{Delay: l.RTT / 2, Jitter: l.Jitter, LossPct: l.LossPct}
}

// Validate reports negative durations, a loss outside [0, 100] and a jitter
// larger than the one-way delay (which would need negative delays).
func (l Link) Validate() error {
	return l.OneWay().Validate()
}

// Shape is what the emulated WAN does to datagrams in one direction.
type Shape struct {
	// Delay is the one-way delay (nanoseconds in JSON).
	Delay time.Duration `json:"delay,omitempty"`
	// Jitter varies each datagram's delay uniformly within ±Jitter.
	Jitter time.Duration `json:"jitter,omitempty"`
	// LossPct is the chance, in percent, that a datagram is dropped.
	LossPct float64 `json:"lossPct,omitempty"`
}

// Validate reports a shape no emulator can honour.
func (s Shape) Validate() error {
	switch {
	case s.Delay < 0:
		return fmt.Errorf("delay %v: must not be negative", s.Delay)
	case s.Jitter < 0:
		return fmt.Errorf("jitter %v: must not be negative", s.Jitter)
	case s.Jitter > s.Delay:
		return fmt.Errorf("jitter %v: must not exceed the one-way delay %v", s.Jitter, s.Delay)
	case math.IsNaN(s.LossPct) || s.LossPct < 0 || s.LossPct > 100:
		return fmt.Errorf("loss %v%%: want a percentage in [0, 100]", s.LossPct)
	}
	return nil
}

// Site is a place the model knows: by coordinates, by a city of the
// built-in table, or by neither (then only explicit links reach it).
type Site struct {
	Name     string
	Location *Coord
	City     string
}

// Explicit sets the link between two sites, overriding the coordinates.
type Explicit struct {
	From string
	To   string
	Link
}

// Model is the latency model of a topology: where the sites are and the
// links set by hand.
type Model struct {
	Sites []Site
	// Links override the coordinate model for their site pairs.
	Links []Explicit
	// Inflation is the route length over the great circle; 0 means
	// DefaultInflation.
	Inflation float64
}

// Pair names two sites, in sorted order, so that a pair and its reverse are
// the same key.
type Pair struct{ A, B string }

// NewPair returns the pair of a and b in sorted order.
func NewPair(a, b string) Pair {
	if b < a {
		a, b = b, a
	}
	return Pair{a, b}
}

// String is "A<->B".
func (p Pair) String() string { return p.A + "<->" + p.B }

// Entry is the resolved link of one site pair.
type Entry struct {
	Pair
	Link
	// DistanceKm is the great-circle distance, when both sites have
	// coordinates; 0 otherwise.
	DistanceKm float64
	// Explicit says the link came from Model.Links, not from coordinates.
	Explicit bool
}

// Validate checks the whole model and returns every problem, each naming
// the field it is in (sites[1].city, links[0].to, …).
func (m Model) Validate() error {
	var errs []error
	if m.Inflation != 0 && (math.IsNaN(m.Inflation) || m.Inflation < 1) {
		errs = append(errs, fmt.Errorf("inflation %v: want 1 or more (a route is never shorter than the great circle)", m.Inflation))
	}
	names := map[string]bool{}
	for i, s := range m.Sites {
		field := fmt.Sprintf("sites[%d]", i)
		switch {
		case s.Name == "":
			errs = append(errs, fmt.Errorf("%s.name: empty", field))
		case names[s.Name]:
			errs = append(errs, fmt.Errorf("%s.name: site %q appears twice", field, s.Name))
		}
		names[s.Name] = true
		if s.Location != nil && s.City != "" {
			errs = append(errs, fmt.Errorf("%s (site %q): set location or city, not both", field, s.Name))
		}
		if s.Location != nil {
			if err := s.Location.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("%s.location (site %q): %w", field, s.Name, err))
			}
		}
		if s.City != "" {
			if _, ok := LookupCity(s.City); !ok {
				errs = append(errs, fmt.Errorf("%s.city (site %q): unknown city %q; known: %s", field, s.Name, s.City, strings.Join(Cities(), ", ")))
			}
		}
	}
	seen := map[Pair]int{}
	for i, l := range m.Links {
		field := fmt.Sprintf("links[%d]", i)
		for _, end := range []struct{ name, value string }{{"from", l.From}, {"to", l.To}} {
			if !names[end.value] {
				errs = append(errs, fmt.Errorf("%s.%s: unknown site %q", field, end.name, end.value))
			}
		}
		if l.From == l.To {
			errs = append(errs, fmt.Errorf("%s: from and to are both %q", field, l.From))
		}
		p := NewPair(l.From, l.To)
		if j, dup := seen[p]; dup {
			errs = append(errs, fmt.Errorf("%s: pair %s already set by links[%d]", field, p, j))
		}
		seen[p] = i
		if err := l.Link.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", field, p, err))
		}
	}
	return errors.Join(errs...)
}

// Enabled says whether the model emulates anything: some site has a place
// or some link is set.
func (m Model) Enabled() bool {
	if len(m.Links) > 0 {
		return true
	}
	for _, s := range m.Sites {
		if s.Location != nil || s.City != "" {
			return true
		}
	}
	return false
}

// Lookup resolves the link between sites a and b: an explicit link if
// there is one, else the coordinate model. It fails when neither applies.
// Call Validate first; Lookup assumes a valid model.
func (m Model) Lookup(a, b string) (Entry, error) {
	p := NewPair(a, b)
	for _, l := range m.Links {
		if NewPair(l.From, l.To) == p {
			e := Entry{Pair: p, Link: l.Link, Explicit: true}
			e.DistanceKm, _ = m.distance(p)
			return e, nil
		}
	}
	d, err := m.distance(p)
	if err != nil {
		return Entry{}, fmt.Errorf("latency %s: %w; give both sites a location or city, or set the pair in links", p, err)
	}
	return Entry{Pair: p, Link: Link{RTT: RTTForDistance(d, m.Inflation)}, DistanceKm: d}, nil
}

// Matrix resolves the links of the given pairs (all pairs of sites when
// pairs is nil), sorted by pair. It returns every pair it cannot resolve.
func (m Model) Matrix(pairs []Pair) ([]Entry, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if pairs == nil {
		for i, a := range m.Sites {
			for _, b := range m.Sites[i+1:] {
				pairs = append(pairs, NewPair(a.Name, b.Name))
			}
		}
	}
	var (
		out  []Entry
		errs []error
	)
	for _, p := range pairs {
		e, err := m.Lookup(p.A, p.B)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(x, y Entry) int {
		return strings.Compare(x.A+"\x00"+x.B, y.A+"\x00"+y.B)
	})
	return out, errors.Join(errs...)
}

func (m Model) distance(p Pair) (float64, error) {
	a, err := m.coord(p.A)
	if err != nil {
		return 0, err
	}
	b, err := m.coord(p.B)
	if err != nil {
		return 0, err
	}
	return DistanceKm(a, b), nil
}

func (m Model) coord(name string) (Coord, error) {
	for _, s := range m.Sites {
		if s.Name != name {
			continue
		}
		if s.Location != nil {
			return *s.Location, nil
		}
		if c, ok := LookupCity(s.City); ok {
			return c.Coord, nil
		}
		return Coord{}, fmt.Errorf("site %q has no location or city", name)
	}
	return Coord{}, fmt.Errorf("unknown site %q", name)
}

package experiment

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// Kind is what an event does.
type Kind string

// The kinds of event.
const (
	// Partition cuts every tunnel of Event.Site: nothing crosses between
	// it and the other sites until Heal.
	Partition Kind = "partition"
	// Heal restores the tunnels Partition cut.
	Heal Kind = "heal"
	// SetLink gives the tunnel between Event.From and Event.To the
	// one-way Event.Shape in both directions.
	SetLink Kind = "set-link"
	// StopMachine and StartMachine stop and start Event.Machine.
	StopMachine  Kind = "stop-machine"
	StartMachine Kind = "start-machine"
)

// Event is one thing a run does to the testbed.
type Event struct {
	Kind Kind `json:"kind"`
	// Site is the site to partition or heal.
	Site string `json:"site,omitempty"`
	// From and To name the tunnel's sites for SetLink; Shape is its new
	// one-way shape.
	From  string     `json:"from,omitempty"`
	To    string     `json:"to,omitempty"`
	Shape *wan.Shape `json:"shape,omitempty"`
	// Machine is the machine to stop or start.
	Machine string `json:"machine,omitempty"`
}

// Scheduled is an event due After the run's start.
type Scheduled struct {
	After time.Duration
	Event Event
}

// String says what the event does, for records and errors.
func (e Event) String() string {
	switch e.Kind {
	case Partition, Heal:
		return fmt.Sprintf("%s site %s", e.Kind, e.Site)
	case SetLink:
		if e.Shape == nil {
			return fmt.Sprintf("%s %s<->%s", e.Kind, e.From, e.To)
		}
		return fmt.Sprintf("%s %s<->%s delay %v jitter %v loss %v%%", e.Kind, e.From, e.To, e.Shape.Delay, e.Shape.Jitter, e.Shape.LossPct)
	case StopMachine, StartMachine:
		return fmt.Sprintf("%s %s", e.Kind, e.Machine)
	}
	return string(e.Kind)
}

// validate checks e against t: known kind, sites, machine and a shape an
// emulator can honour. The error names the value at fault.
func (e Event) validate(t *topology.Topology) error {
	site := func(field, name string) error {
		if _, ok := t.Site(name); !ok {
			return fmt.Errorf("%s: %s %q: no such site", e.Kind, field, name)
		}
		return nil
	}
	switch e.Kind {
	case Partition, Heal:
		return site("site", e.Site)
	case SetLink:
		err := errors.Join(site("from", e.From), site("to", e.To))
		if err != nil {
			return err
		}
		if e.From == e.To {
			return fmt.Errorf("%s: from and to are both %q: want two sites", e.Kind, e.From)
		}
		if !hasTunnel(t, e.From, e.To) {
			return fmt.Errorf("%s: sites %q and %q have no tunnel of their own", e.Kind, e.From, e.To)
		}
		if e.Shape == nil {
			return fmt.Errorf("%s %s<->%s: shape missing", e.Kind, e.From, e.To)
		}
		if err := e.Shape.Validate(); err != nil {
			return fmt.Errorf("%s %s<->%s: %w", e.Kind, e.From, e.To, err)
		}
		return nil
	case StopMachine, StartMachine:
		if _, ok := t.Machine(e.Machine); !ok {
			return fmt.Errorf("%s: machine %q: no such machine", e.Kind, e.Machine)
		}
		return nil
	}
	return fmt.Errorf("event kind %q: want one of %s, %s, %s, %s, %s", e.Kind, Partition, Heal, SetLink, StopMachine, StartMachine)
}

// hasTunnel reports whether a tunnel joins sites a and b directly.
func hasTunnel(t *topology.Topology, a, b string) bool {
	return slices.ContainsFunc(t.TunnelPairs(), func(p [2]string) bool {
		return p == [2]string{a, b} || p == [2]string{b, a}
	})
}

// tunnelsOf returns the sites joined to site by a tunnel of its own.
func tunnelsOf(t *topology.Topology, site string) []string {
	var out []string
	for _, p := range t.TunnelPairs() {
		switch site {
		case p[0]:
			out = append(out, p[1])
		case p[1]:
			out = append(out, p[0])
		}
	}
	return out
}

// validateSchedule checks every scheduled event: a negative offset is an
// event in the past.
func validateSchedule(t *topology.Topology, s []Scheduled) error {
	var errs []error
	for i, se := range s {
		if se.After < 0 {
			errs = append(errs, fmt.Errorf("schedule[%d] (%s): after %v: an event in the past", i, se.Event, se.After))
		}
		if err := se.Event.validate(t); err != nil {
			errs = append(errs, fmt.Errorf("schedule[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// Record is an event as the run did it.
type Record struct {
	// Time is when the event started; OffsetMs the same from the run's
	// start.
	Time     time.Time `json:"time"`
	OffsetMs float64   `json:"offsetMs"`
	Event    Event     `json:"event"`
	// Did says what was done ("cut 2 tunnels: …").
	Did string `json:"did"`
	// Error is why it failed; empty when it succeeded.
	Error  string  `json:"error,omitempty"`
	TookMs float64 `json:"tookMs"`
}

// OK reports whether the event succeeded.
func (r Record) OK() bool { return r.Error == "" }

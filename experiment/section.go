package experiment

import (
	"errors"
	"fmt"
	"slices"
)

// Section is a table of the system under test's own results that
// report.html shows beside the testbed's: a harness computes it from what
// its system recorded (package experiment/gossip: delivery latency per
// site pair, delivery ratio per site and phase) and hands it to the run
// with SetSections.
type Section struct {
	Title string `json:"title"`
	// Note says how the numbers were made, under the title.
	Note    string     `json:"note,omitempty"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

func (s Section) validate() error {
	if s.Title == "" {
		return errors.New("a section has no title")
	}
	if len(s.Columns) == 0 {
		return fmt.Errorf("section %q: no columns", s.Title)
	}
	for i, row := range s.Rows {
		if len(row) != len(s.Columns) {
			return fmt.Errorf("section %q: row %d has %d cells for %d columns", s.Title, i, len(row), len(s.Columns))
		}
	}
	return nil
}

// SetSections replaces the system's tables in the report and rewrites the
// results folder; a harness calls it whenever its numbers change, so that
// a run cut short shows the last ones. A malformed section (no title, no
// columns, a row of another width) is an error naming it, and nothing is
// changed.
func (r *Run) SetSections(sections ...Section) error {
	for _, s := range sections {
		if err := s.validate(); err != nil {
			return fmt.Errorf("experiment: %w", err)
		}
	}
	r.mu.Lock()
	r.sections = slices.Clone(sections)
	r.mu.Unlock()
	r.flush()
	return nil
}

// Dir is the run's results folder, where a harness may write files of its
// own beside the run's.
func (r *Run) Dir() string { return r.opts.Dir }

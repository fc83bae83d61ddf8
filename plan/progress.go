package plan

import (
	"fmt"
	"io"
	"time"
)

// Progress returns a Hook that writes one line per finished step to w,
// kind-style: "✓ create vm node03 on esxi2 (VLAN 30): missing (0.3s)",
// "= … (unchanged)", "✗ …: error", "- … (skipped)". It is for command-line
// programs; a library passes its own Hook.
func Progress(w io.Writer) Hook {
	return HookFunc(func(e Event) {
		s := e.Step
		switch {
		case e.Kind == Started:
		case s.Outcome == Failed:
			fmt.Fprintf(w, " ✗ %s: %v\n", s.Target, s.Err)
		case s.Outcome == Skipped || s.Outcome == NotRun:
			fmt.Fprintf(w, " - %s (%s)\n", s.Target, s.Outcome)
		case s.Action == NoOp:
			fmt.Fprintf(w, " = %s (unchanged)\n", s.Target)
		default:
			line := fmt.Sprintf(" ✓ %s %s", s.Action, s.Target)
			if s.Reason != "" {
				line += ": " + s.Reason
			}
			fmt.Fprintf(w, "%s (%s)\n", line, s.Duration.Round(100*time.Millisecond))
		}
	})
}

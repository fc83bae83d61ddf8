package lab

import (
	"fmt"
	"io"
	"time"
)

// Progress returns an Options.Progress that writes the lab's phases to w
// kind-style, one line per phase that ended: "✓ Creating networks (1.2s)"
// or "✗ Starting machines: why". A phase is announced when it starts only
// when it can take long (the Kubernetes node image), so that a silent
// terminal is not taken for a hang. It is for command-line programs, as
// plan.Progress is for a walk's steps.
func Progress(w io.Writer) func(Event) {
	return func(e Event) {
		switch {
		case !e.Done:
			// Say before what may take a while.
			if e.Phase == PhaseNodeImage || e.Phase == PhasePackages {
				fmt.Fprintf(w, " • %s\n", e)
			}
		case e.Err != nil:
			fmt.Fprintf(w, " ✗ %s: %v\n", e, e.Err)
		default:
			fmt.Fprintf(w, " ✓ %s (%s)\n", e, e.Elapsed.Round(100*time.Millisecond))
		}
	}
}

package plan

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Progress returns a Hook that writes one line per finished step to w,
// kind-style: "✓ create vm node03 on esxi2 (VLAN 30): missing (0.3s)",
// "= … (unchanged)", "✗ …: error", "- … (skipped)". A step still running
// after 10 seconds (a kubeadm join, a compile) gets a line saying so, and
// another every 30 seconds, "… kubeadm join on node04 (40s), and 2 more
// running" (the step running longest speaks for those running beside
// it), so that the output moves during long work; plain lines, fit for a
// log (ProgressFor picks Live on a terminal). It is for command-line
// programs; a library passes its own Hook.
func Progress(w io.Writer) Hook {
	return progressEvery(w, 10*time.Second, 30*time.Second)
}

// progressEvery is Progress with the first "still running" line after
// first and the next ones every next.
func progressEvery(w io.Writer, first, next time.Duration) Hook {
	type step struct {
		timer *time.Timer
		start time.Time
	}
	var mu sync.Mutex // the timers write too
	running := map[string]*step{}
	return HookFunc(func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		s := e.Step
		if e.Kind == Started {
			if s.Start.IsZero() {
				s.Start = time.Now()
			}
			this := &step{start: s.Start}
			this.timer = time.AfterFunc(first, func() {
				mu.Lock()
				defer mu.Unlock()
				if running[s.ID] != this {
					return
				}
				this.timer.Reset(next)
				// Of steps running at once, the one running longest
				// speaks for all, so a wide plan gives one line, not
				// one per step.
				others := 0
				for id, o := range running {
					if id == s.ID {
						continue
					}
					if o.start.Before(this.start) || (o.start.Equal(this.start) && id < s.ID) {
						return
					}
					others++
				}
				line := fmt.Sprintf(" … %s (%s)", s.Target, time.Since(s.Start).Round(time.Second))
				if others > 0 {
					line += fmt.Sprintf(", and %d more running", others)
				}
				fmt.Fprintln(w, line)
			})
			running[s.ID] = this
			return
		}
		if r, ok := running[s.ID]; ok {
			r.timer.Stop()
			delete(running, s.ID)
		}
		switch {
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

package plan

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"
)

// ProgressFor is the progress Hook for w: on a terminal, Live; otherwise
// Progress's plain lines, fit for a log or a pipe.
func ProgressFor(w io.Writer) Hook {
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return Live(w)
		}
	}
	return Progress(w)
}

// Live is Progress for a terminal: the same line per finished step, and
// below them one status line, redrawn every second, with the step running
// longest and its elapsed time ("… go build kubernetes (2m10s), and 1
// more"), so that long work visibly moves.
func Live(w io.Writer) Hook { return liveEvery(w, time.Second) }

// statusWidth bounds the status line, so that it stays one terminal line.
const statusWidth = 100

func liveEvery(w io.Writer, every time.Duration) Hook {
	var (
		mu      sync.Mutex
		running []StepResult // in the order they started
		stop    chan struct{}
		status  bool // a status line is on the screen
	)
	finished := Progress(w) // its lines, written under mu
	draw := func() {        // mu held
		if len(running) == 0 {
			return
		}
		s := running[0]
		line := fmt.Sprintf(" … %s (%s)", s.Target, time.Since(s.Start).Round(time.Second))
		if n := len(running) - 1; n > 0 {
			line += fmt.Sprintf(", and %d more", n)
		}
		if r := []rune(line); len(r) > statusWidth {
			line = string(r[:statusWidth-1]) + "…"
		}
		fmt.Fprintf(w, "\r\033[K%s", line)
		status = true
	}
	clear := func() { // mu held
		if status {
			fmt.Fprint(w, "\r\033[K")
			status = false
		}
	}
	return HookFunc(func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		s := e.Step
		if e.Kind == Started {
			if s.Start.IsZero() {
				s.Start = time.Now()
			}
			running = append(running, s)
			if stop == nil {
				stop = make(chan struct{})
				go func(stop chan struct{}) {
					t := time.NewTicker(every)
					defer t.Stop()
					for {
						select {
						case <-stop:
							return
						case <-t.C:
							mu.Lock()
							draw()
							mu.Unlock()
						}
					}
				}(stop)
			}
			return
		}
		running = slices.DeleteFunc(running, func(r StepResult) bool { return r.ID == s.ID })
		clear()
		finished.OnEvent(e)
		if len(running) == 0 && stop != nil {
			close(stop)
			stop = nil
			return
		}
		draw()
	})
}

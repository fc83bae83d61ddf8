//go:build !linux

package wan

import "time"

// preciseSleep falls back to the runtime's timers where nanosleep(2) is not
// at hand; the relay's lead estimate then absorbs their coarser wake-ups.
func preciseSleep(d time.Duration) { time.Sleep(d) }

// makeRealtime is not available here.
func makeRealtime() bool { return false }

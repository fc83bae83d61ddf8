package wan

import (
	"syscall"
	"time"
)

// preciseSleep sleeps for d with nanosleep(2) on the calling thread. Go's
// timers wake up to about a millisecond late, which at a 10 ms RTT would
// be a 10 % error; nanosleep is typically within 100 µs. The relay uses it
// only for the last fineWindow before a datagram is due.
func preciseSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for {
		var rem syscall.Timespec
		if err := syscall.Nanosleep(&ts, &rem); err != syscall.EINTR {
			return
		}
		ts = rem
	}
}

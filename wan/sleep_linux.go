package wan

import (
	"syscall"
	"time"
	"unsafe"
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

// schedRR is SCHED_RR from sched.h.
const schedRR = 2

// makeRealtime moves the calling OS thread to SCHED_RR at priority 10 (of
// 1–99, well below the kernel's own threads), so that a datagram's send is
// not delayed behind the ordinary processes of a busy machine. The thread
// sleeps almost all the time, and the kernel's realtime throttling caps it
// at 95 % of a core in any case. It needs root or CAP_SYS_NICE and reports
// whether it took. The caller must keep the goroutine locked to the thread
// for good (never UnlockOSThread), so the priority dies with the thread.
func makeRealtime() bool {
	param := struct{ priority int32 }{priority: 10}
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, uintptr(syscall.Gettid()), schedRR, uintptr(unsafe.Pointer(&param)))
	return errno == 0
}

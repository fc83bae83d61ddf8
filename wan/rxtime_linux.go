package wan

import (
	"net"
	"syscall"
	"time"
	"unsafe"
)

// oobSize holds one SCM_TIMESTAMPNS control message.
var oobSize = syscall.CmsgSpace(int(unsafe.Sizeof(syscall.Timespec{})))

// enableRxTimestamps asks the kernel to stamp each received datagram
// (SO_TIMESTAMPNS), so that a datagram's delay counts from when it reached
// the host, not from when the relay's reader goroutine got to run. Best
// effort: without it, the arrival is the time the read returned.
func enableRxTimestamps(conn *net.UDPConn) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	})
}

// arrivalTime returns when the datagram whose control messages are oob
// reached the host, as a time with a monotonic reading (derived from now).
// Kernel stamps are wall-clock times; an implausible stamp (clock step,
// missing message) yields now.
func arrivalTime(oob []byte, now time.Time) time.Time {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return now
	}
	for _, m := range msgs {
		if m.Header.Level != syscall.SOL_SOCKET || m.Header.Type != syscall.SCM_TIMESTAMPNS || len(m.Data) < int(unsafe.Sizeof(syscall.Timespec{})) {
			continue
		}
		ts := *(*syscall.Timespec)(unsafe.Pointer(&m.Data[0]))
		age := now.Sub(time.Unix(ts.Unix()))
		if age < 0 || age > time.Second {
			return now
		}
		return now.Add(-age)
	}
	return now
}

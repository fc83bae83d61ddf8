//go:build !linux

package wan

import (
	"net"
	"time"
)

const oobSize = 0

func enableRxTimestamps(*net.UDPConn) {}

func arrivalTime(_ []byte, now time.Time) time.Time { return now }

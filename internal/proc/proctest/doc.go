// Package proctest helps tests show that the processes a command started
// are gone after it was cancelled: the test's script writes a PID to a
// file, PID reads it, and Gone says whether that process has ended.
// It reads /proc, so it works on Linux only.
package proctest

package proctest

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// PID waits up to ten seconds for a line holding a process ID in the file at
// path, as `echo $$ > file` writes it, and returns that ID. It fails the test
// when none comes.
func PID(t testing.TB, path string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := os.ReadFile(path)
		if err == nil && strings.HasSuffix(string(data), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
			if err != nil {
				t.Fatalf("%s: not a process ID: %q", path, data)
			}
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no process ID after ten seconds (did the script start?)", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Gone reports whether process pid has ended, waiting up to two seconds for
// it. A zombie counts as ended: it runs no more, and an init that does not
// reap orphans (as in some containers) would keep it forever.
func Gone(pid int) bool {
	deadline := time.Now().Add(2 * time.Second)
	for {
		if ended(pid) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ended(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	// The state follows the command name, which is in parentheses and may
	// itself contain ") ".
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return false
	}
	state := stat[i+2]
	return state == 'Z' || state == 'X'
}

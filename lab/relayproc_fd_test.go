package lab

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/wan"
)

// The relay process outlives the program that starts it (stage apply
// --lab), so it must hold none of that program's descriptors: run under
// flock(1), whose command inherits the lock's descriptor, the relay kept
// the lock for as long as the lab ran, and every other lab run waiting on
// it hung.
func TestRelayProcessHoldsNoInheritedDescriptor(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lock := filepath.Join(dir, "labtests.lock")
	// As flock(1) leaves it for its command: open, locked, not close-on-exec.
	fd, err := syscall.Open(lock, syscall.O_CREAT|syscall.O_RDWR, 0o600)
	require.NoError(t, err)
	defer syscall.Close(fd)
	require.NoError(t, syscall.Flock(fd, syscall.LOCK_EX))

	free := func() netip.AddrPort {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		require.NoError(t, err)
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	paths := []wan.PathConfig{{Name: "a<->b", ListenA: free(), ListenB: free(), PeerA: free(), PeerB: free()}}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	require.NoError(t, ensureRelayProcess(ctx, testRelayCommand, dir, paths))
	pid, ok := relayPID(dir)
	require.True(t, ok)
	t.Cleanup(func() { _ = stopRelayProcess(context.Background(), dir) })

	fds, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	require.NoError(t, err)
	require.NotEmpty(t, fds)
	for _, e := range fds {
		target, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "fd", e.Name()))
		assert.NotEqual(t, lock, target, "the relay holds the starter's lock file open (fd %s)", e.Name())
	}
}

package lab

import (
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/wan"
)

// asRelayEnv makes the test binary act as a program whose "wan-relay"
// subcommand is ServeRelay (TestMain), so that the relay process the tests
// start is the real thing, started the way SelfRelay starts it.
const asRelayEnv = "PLANETSTAGE_TEST_AS_RELAY"

func TestMain(m *testing.M) {
	if os.Getenv(asRelayEnv) == "1" && len(os.Args) > 1 && os.Args[1] == "wan-relay" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		err := ServeRelay(ctx, os.Args[2:], os.Stderr)
		stop()
		if err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testRelayCommand is SelfRelay("wan-relay") for this test binary.
func testRelayCommand(args ...string) (*exec.Cmd, error) {
	cmd, err := SelfRelay("wan-relay")(args...)
	if err != nil {
		return nil, err
	}
	cmd.Env = append(os.Environ(), asRelayEnv+"=1")
	return cmd, nil
}

// The lab's relay as a process of its own: it starts, relays, is left
// alone by a second ensure with the same paths, is replaced for other
// paths, and stops.
func TestRelayProcess(t *testing.T) {
	t.Parallel()
	peerA, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer peerA.Close()
	peerB, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer peerB.Close()
	free := func() netip.AddrPort {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		require.NoError(t, err)
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	paths := []wan.PathConfig{{Name: "a<->b", ListenA: free(), ListenB: free(),
		PeerA: peerA.LocalAddr().(*net.UDPAddr).AddrPort(), PeerB: peerB.LocalAddr().(*net.UDPAddr).AddrPort(),
		AtoB: wan.Shape{Delay: 20 * time.Millisecond}, BtoA: wan.Shape{Delay: 20 * time.Millisecond}}}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	require.NoError(t, ensureRelayProcess(ctx, testRelayCommand, dir, paths))
	pid, ok := relayPID(dir)
	require.True(t, ok, "the pid file names a running relay")
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })

	// A datagram from A reaches B 20 ms later, from the relay's B face.
	sent := time.Now()
	_, err = peerA.WriteToUDPAddrPort([]byte("hello"), paths[0].ListenA)
	require.NoError(t, err)
	buf := make([]byte, 64)
	require.NoError(t, peerB.SetReadDeadline(time.Now().Add(5*time.Second)))
	n, from, err := peerB.ReadFromUDPAddrPort(buf)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(buf[:n]))
	assert.Equal(t, paths[0].ListenB, from)
	assert.GreaterOrEqual(t, time.Since(sent), 20*time.Millisecond)

	require.NoError(t, ensureRelayProcess(ctx, testRelayCommand, dir, paths))
	again, _ := relayPID(dir)
	assert.Equal(t, pid, again, "same paths: the running relay stays")

	paths[0].AtoB.Delay = 30 * time.Millisecond
	require.NoError(t, ensureRelayProcess(ctx, testRelayCommand, dir, paths))
	replaced, ok := relayPID(dir)
	require.True(t, ok)
	t.Cleanup(func() { _ = syscall.Kill(replaced, syscall.SIGKILL) })
	assert.NotEqual(t, pid, replaced, "other paths: a new relay")
	_, ok = relayPIDOf(pid, dir)
	assert.False(t, ok, "the old relay is gone")

	require.NoError(t, stopRelayProcess(ctx, dir))
	_, ok = relayPID(dir)
	assert.False(t, ok, "stopped")
	_, err = os.Stat(filepath.Join(dir, relayPIDFile))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

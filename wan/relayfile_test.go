package wan

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func udpConn(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func freePort(t *testing.T) netip.AddrPort {
	t.Helper()
	c := udpConn(t)
	ap := c.LocalAddr().(*net.UDPAddr).AddrPort()
	require.NoError(t, c.Close())
	return ap
}

func TestServeRelayFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := udpConn(t), udpConn(t)
	face := freePort(t)
	cfg := RelayFile{Paths: []PathConfig{{
		Name: "a<->b", ListenA: face, ListenB: netip.MustParseAddrPort("127.0.0.1:0"),
		PeerA: a.LocalAddr().(*net.UDPAddr).AddrPort(), PeerB: b.LocalAddr().(*net.UDPAddr).AddrPort(),
		AtoB: Shape{Delay: 5 * time.Millisecond},
	}}}
	data, err := json.Marshal(cfg)
	require.NoError(t, err)
	configPath, statsPath := filepath.Join(dir, "relay.json"), filepath.Join(dir, "stats.json")
	require.NoError(t, os.WriteFile(configPath, data, 0o600))

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- ServeRelayFile(ctx, slog.New(slog.DiscardHandler), configPath, statsPath, 50*time.Millisecond)
	}()
	require.Eventually(t, func() bool {
		_, err := a.WriteToUDPAddrPort([]byte("ping"), face)
		require.NoError(t, err)
		require.NoError(t, b.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
		buf := make([]byte, 8)
		n, _, err := b.ReadFromUDPAddrPort(buf)
		return err == nil && string(buf[:n]) == "ping"
	}, 5*time.Second, 10*time.Millisecond, "nothing relayed")
	cancel()
	require.NoError(t, <-done)

	raw, err := os.ReadFile(statsPath)
	require.NoError(t, err)
	var stats map[string]PathStats
	require.NoError(t, json.Unmarshal(raw, &stats))
	assert.Positive(t, stats["a<->b"].AtoB.Forwarded)
}

func TestServeRelayFileRejectsBadConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct{ name, content, want string }{
		{"unknown field", `{"paths": [], "extra": 1}`, `unknown field "extra"`},
		{"bad address", `{"paths": [{"name": "p", "listenA": "nowhere"}]}`, "not an ip:port"},
		{"no peer", `{"paths": [{"name": "p", "listenA": "127.0.0.1:0", "listenB": "127.0.0.1:0"}]}`, "PeerA"},
	} {
		path := filepath.Join(dir, tc.name+".json")
		require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o600))
		err := ServeRelayFile(t.Context(), slog.New(slog.DiscardHandler), path, "", time.Second)
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
	}
	assert.ErrorContains(t, ServeRelayFile(t.Context(), nil, "", "", time.Second), "no configuration file")
}

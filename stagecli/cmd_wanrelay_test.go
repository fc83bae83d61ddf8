package stagecli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/wan"
)

func TestWANRelayCommand(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run(t.Context(), []string{"wan-relay"}, &out, &errOut), "no -config is a usage error")
	assert.Contains(t, errOut.String(), "-config FILE")

	peer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer peer.Close()
	ap := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	data, err := json.Marshal(wan.RelayFile{Paths: []wan.PathConfig{{
		Name: "a<->b", ListenA: netip.MustParseAddrPort("127.0.0.1:0"), ListenB: netip.MustParseAddrPort("127.0.0.1:0"),
		PeerA: ap, PeerB: ap,
	}}})
	require.NoError(t, err)
	dir := t.TempDir()
	config, stats := filepath.Join(dir, "relay.json"), filepath.Join(dir, "stats.json")
	require.NoError(t, os.WriteFile(config, data, 0o600))

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	assert.Equal(t, 0, run(ctx, []string{"wan-relay", "-config", config, "-stats", stats}, &out, &errOut), errOut.String())
	raw, err := os.ReadFile(stats)
	require.NoError(t, err, "the counters are written on the way out")
	assert.Contains(t, string(raw), `"a<->b"`)
}

package layer

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/topology"
)

func TestLatencyFromTheTopologyFile(t *testing.T) {
	t.Parallel()
	top, err := topology.Parse("geo.yaml", []byte(geoThesis(t)))
	require.NoError(t, err)
	st, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)
	env := &Env{State: st}
	delays, err := LatencyFor(top, withLatency(top, env), "site-a")
	require.NoError(t, err)
	require.Len(t, delays, 2, "a delay towards each other site")
	for peer, d := range delays {
		// Tokyo–Frankfurt ≈ 140 ms RTT, Tokyo–São Paulo ≈ 278 ms: one way
		// is half.
		assert.Greater(t, d, 60*time.Millisecond, peer)
		assert.Less(t, d, 150*time.Millisecond, peer)
	}
	arts, err := Render(top, env, "vyos01", Routers)
	require.NoError(t, err)
	require.NotEmpty(t, arts)
	assert.Contains(t, arts[0].Content, "network-emulator", "VyOS gets the latency as netem policies")
}

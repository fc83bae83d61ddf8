package wan

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oneWay sends one datagram a->b and returns how long it took to arrive.
func oneWay(t *testing.T, tp *testPath) time.Duration {
	t.Helper()
	start := time.Now()
	_, err := tp.a.WriteToUDPAddrPort(seqPacket(0, 0), tp.path.AddrA())
	require.NoError(t, err)
	buf := make([]byte, 2048)
	require.NoError(t, tp.b.SetReadDeadline(time.Now().Add(2*time.Second)))
	_, _, err = tp.b.ReadFromUDPAddrPort(buf)
	require.NoError(t, err, "nothing arrived")
	return time.Since(start)
}

// A path's shape changes while it runs: the next datagram gets the new
// delay. A bad shape is refused and the old one stays.
func TestPathSetShapeLive(t *testing.T) {
	t.Parallel()
	tp := startPath(t, PathConfig{AtoB: Shape{Delay: 10 * time.Millisecond}})
	before := oneWay(t, tp)
	assert.Less(t, before, 40*time.Millisecond, "delay before the change")

	require.NoError(t, tp.path.SetShape(Shape{Delay: 80 * time.Millisecond}, Shape{}))
	after := oneWay(t, tp)
	assert.GreaterOrEqual(t, after, 80*time.Millisecond, "the new delay must apply to the next datagram")

	err := tp.path.SetShape(Shape{Delay: -time.Millisecond}, Shape{})
	require.ErrorContains(t, err, "delay -1ms")
	err = tp.path.SetShape(Shape{}, Shape{LossPct: 101})
	require.ErrorContains(t, err, "loss 101%")
	ab, ba := tp.path.Shape()
	assert.Equal(t, Shape{Delay: 80 * time.Millisecond}, ab, "a refused change leaves the shape as it was")
	assert.Equal(t, Shape{}, ba)
}

// A cut path drops everything, counted as Cut; restored, it relays again.
func TestPathSetCut(t *testing.T) {
	t.Parallel()
	tp := startPath(t, PathConfig{})
	tp.path.SetCut(true)
	assert.True(t, tp.path.Cut())
	sendPaced(t, tp, 200)
	assert.Empty(t, receiveUntilIdle(t, tp.b, 200*time.Millisecond), "a cut path relays nothing")
	st := tp.path.Stats().AtoB
	assert.Equal(t, uint64(200), st.Cut)
	assert.Zero(t, st.Forwarded)

	tp.path.SetCut(false)
	sendPaced(t, tp, 200)
	assert.Len(t, receiveUntilIdle(t, tp.b, 200*time.Millisecond), 200, "a restored path relays again")
}

// Shape changes race with the reader goroutine; run with -race.
func TestPathSetShapeConcurrent(t *testing.T) {
	t.Parallel()
	tp := startPath(t, PathConfig{AtoB: Shape{Delay: time.Millisecond}})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 200 {
			assert.NoError(t, tp.path.SetShape(Shape{Delay: time.Duration(i%5) * time.Millisecond, LossPct: float64(i % 3)}, Shape{}))
			tp.path.SetCut(i%7 == 0)
			_ = tp.path.Stats()
		}
	})
	sendPaced(t, tp, 2000)
	wg.Wait()
	tp.path.SetCut(false)
	got := receiveUntilIdle(t, tp.b, 200*time.Millisecond)
	st := tp.path.Stats().AtoB
	assert.Equal(t, st.Received, st.Forwarded+st.Lost+st.Cut+st.Dropped)
	assert.Len(t, got, int(st.Forwarded))
}

func TestRelayPathByName(t *testing.T) {
	t.Parallel()
	r, err := ListenRelay(t.Context(), []PathConfig{{Name: "a<->b", ListenA: loopback, ListenB: loopback,
		PeerA: netip.AddrPortFrom(loopback.Addr(), 9), PeerB: netip.AddrPortFrom(loopback.Addr(), 10)}})
	require.NoError(t, err)
	defer r.Close()
	p, ok := r.Path("a<->b")
	require.True(t, ok)
	assert.Equal(t, "a<->b", p.Name())
	_, ok = r.Path("a<->c")
	assert.False(t, ok)
}

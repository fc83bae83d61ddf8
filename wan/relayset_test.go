package wan

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlanRelay(t *testing.T) {
	t.Parallel()
	bind := netip.MustParseAddr("172.30.0.1")
	ab := Tunnel{Pair: NewPair("a", "b"), Link: Link{RTT: 100 * time.Millisecond, LossPct: 1},
		A: netip.MustParseAddrPort("10.4.0.90:1194"), B: netip.MustParseAddrPort("10.4.0.91:1194")}
	ac := Tunnel{Pair: NewPair("a", "c"), Link: Link{RTT: 20 * time.Millisecond},
		A: netip.MustParseAddrPort("10.4.0.90:1195"), B: netip.MustParseAddrPort("10.4.0.92:1194")}

	paths, err := PlanRelay(bind, 40000, []Tunnel{ac, ab}, 9)
	require.NoError(t, err)
	require.Len(t, paths, 2)
	assert.Equal(t, PathConfig{
		Name:    "a<->b",
		ListenA: netip.MustParseAddrPort("172.30.0.1:40000"),
		ListenB: netip.MustParseAddrPort("172.30.0.1:40001"),
		PeerA:   ab.A, PeerB: ab.B,
		AtoB: Shape{Delay: 50 * time.Millisecond, LossPct: 1},
		BtoA: Shape{Delay: 50 * time.Millisecond, LossPct: 1},
		Seed: 9, Realtime: true,
	}, paths[0])
	assert.Equal(t, "a<->c", paths[1].Name)
	assert.Equal(t, netip.MustParseAddrPort("172.30.0.1:40002"), paths[1].ListenA)
	assert.Equal(t, netip.MustParseAddrPort("172.30.0.1:40003"), paths[1].ListenB)
	assert.Equal(t, uint64(10), paths[1].Seed)

	again, err := PlanRelay(bind, 40000, []Tunnel{ab, ac}, 9)
	require.NoError(t, err)
	assert.Equal(t, paths, again, "the layout must not depend on the order given")

	_, err = PlanRelay(bind, 40000, []Tunnel{ab, ab}, 0)
	assert.ErrorContains(t, err, "tunnel a<->b appears twice")
	_, err = PlanRelay(bind, 65535, []Tunnel{ab}, 0)
	assert.ErrorContains(t, err, "base port 65535")
	_, err = PlanRelay(netip.Addr{}, 40000, []Tunnel{ab}, 0)
	assert.ErrorContains(t, err, "bind address")
	bad := ab
	bad.Link.LossPct = 200
	_, err = PlanRelay(bind, 40000, []Tunnel{bad}, 0)
	assert.ErrorContains(t, err, "tunnel a<->b: loss 200%")
}

func TestRelayRunsEveryPath(t *testing.T) {
	t.Parallel()
	var cfgs []PathConfig
	var ends [][2]*net.UDPConn
	for _, name := range []string{"x", "y"} {
		a, b := listenTest(t), listenTest(t)
		ends = append(ends, [2]*net.UDPConn{a, b})
		cfgs = append(cfgs, PathConfig{Name: name, ListenA: loopback, ListenB: loopback,
			PeerA: a.LocalAddr().(*net.UDPAddr).AddrPort(), PeerB: b.LocalAddr().(*net.UDPAddr).AddrPort()})
	}
	ctx, cancel := context.WithCancel(t.Context())
	r, err := ListenRelay(ctx, cfgs)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	for i, p := range r.paths {
		_, err := ends[i][0].WriteToUDPAddrPort([]byte{byte(i)}, p.AddrA())
		require.NoError(t, err)
		require.NoError(t, ends[i][1].SetReadDeadline(time.Now().Add(5*time.Second)))
		buf := make([]byte, 8)
		n, from, err := ends[i][1].ReadFromUDPAddrPort(buf)
		require.NoError(t, err)
		assert.Equal(t, []byte{byte(i)}, buf[:n])
		assert.Equal(t, p.AddrB(), from)
	}
	require.Eventually(t, func() bool {
		st := r.Stats()
		return st["x"].AtoB.Forwarded == 1 && st["y"].AtoB.Forwarded == 1
	}, 5*time.Second, time.Millisecond)
	cancel()
	assert.NoError(t, <-done)
}

func TestListenRelayClosesWhatItOpenedOnFailure(t *testing.T) {
	t.Parallel()
	taken := listenTest(t)
	first := PathConfig{Name: "first", ListenA: loopback, ListenB: loopback,
		PeerA: netip.MustParseAddrPort("127.0.0.1:9"), PeerB: netip.MustParseAddrPort("127.0.0.1:9")}
	// Find two free ports for the first path, then make the second path
	// collide with a port that is in use.
	probe, err := ListenPath(t.Context(), first)
	require.NoError(t, err)
	first.ListenA, first.ListenB = probe.AddrA(), probe.AddrB()
	require.NoError(t, probe.Close())
	second := first
	second.Name = "second"
	second.ListenA = taken.LocalAddr().(*net.UDPAddr).AddrPort()
	second.ListenB = loopback

	_, err = ListenRelay(t.Context(), []PathConfig{first, second})
	require.ErrorContains(t, err, `relay path "second": ListenA`)
	for _, ap := range []netip.AddrPort{first.ListenA, first.ListenB} {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
		require.NoError(t, err, "%v must be free again", ap)
		c.Close()
	}
}

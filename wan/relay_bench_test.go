package wan

import (
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// benchPayload is the size of a full OpenVPN UDP datagram on a 1500-byte
// underlay.
const benchPayload = 1400

// flow sends b.N datagrams from src to dst and waits until sink has them
// all, keeping at most window datagrams in flight so that no kernel buffer
// overflows (the benchmark measures forwarding, not drops). It reports
// packets/s and the process's CPU time per packet.
func flow(b *testing.B, src, sink *net.UDPConn, dst netip.AddrPort, window int) {
	b.Helper()
	tokens := make(chan struct{}, window)
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 2048)
		for range b.N {
			if err := sink.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
				done <- err
				return
			}
			if _, _, err := sink.ReadFromUDPAddrPort(buf); err != nil {
				done <- err
				return
			}
			<-tokens
		}
		done <- nil
	}()
	payload := make([]byte, benchPayload)
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	b.ResetTimer()
	for range b.N {
		tokens <- struct{}{}
		if _, err := src.WriteToUDPAddrPort(payload, dst); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatalf("datagrams went missing: %v", err)
	}
	b.StopTimer()
	elapsed := time.Since(start)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pkts/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/pkt")
	b.SetBytes(benchPayload)
}

// BenchmarkDirect is the baseline: the same sender and receiver without
// the relay. The relay's own cost is BenchmarkRelay's cpu-ns/pkt minus
// this one's.
func BenchmarkDirect(b *testing.B) {
	src, sink := listenBench(b), listenBench(b)
	flow(b, src, sink, sink.LocalAddr().(*net.UDPAddr).AddrPort(), 64)
}

// BenchmarkRelay pushes datagrams through a relay path with no delay: the
// relay's maximum packet rate and CPU per packet.
func BenchmarkRelay(b *testing.B) {
	benchRelay(b, Shape{}, 64)
}

// BenchmarkRelayDelayed does the same through 25 ms of one-way delay, so
// that every datagram waits in the queue and the scheduler sleeps and
// wakes for it.
func BenchmarkRelayDelayed(b *testing.B) {
	benchRelay(b, Shape{Delay: 25 * time.Millisecond}, 1500)
}

func benchRelay(b *testing.B, shape Shape, window int) {
	src, sink := listenBench(b), listenBench(b)
	ctx := b.Context()
	p, err := ListenPath(ctx, PathConfig{
		Name: "bench", ListenA: loopback, ListenB: loopback,
		PeerA: src.LocalAddr().(*net.UDPAddr).AddrPort(), PeerB: sink.LocalAddr().(*net.UDPAddr).AddrPort(),
		AtoB: shape,
	})
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = p.Run(ctx) }()
	b.Cleanup(func() { p.Close() })
	flow(b, src, sink, p.AddrA(), window)
	st := p.Stats().AtoB
	if st.Dropped > 0 || st.Lost > 0 {
		b.Fatalf("relay dropped datagrams: %+v", st)
	}
}

func listenBench(b *testing.B) *net.UDPConn {
	b.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(loopback))
	if err != nil {
		b.Fatal(err)
	}
	_ = c.SetReadBuffer(4 << 20)
	b.Cleanup(func() { c.Close() })
	return c
}

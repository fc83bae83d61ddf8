package wan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultQueueLimit is the number of datagrams a direction of a path holds
// at most when PathConfig.QueueLimit is 0. At 150 ms one way it covers
// about 27 000 datagrams/s, e.g. 300 Mbit/s of 1400-byte tunnel packets.
const DefaultQueueLimit = 4096

// socketBuffer is the kernel buffer asked for on each relay socket, so that
// bursts wait in the kernel instead of being dropped while the relay's
// reader is descheduled. The kernel caps it at net.core.rmem_max/wmem_max.
const socketBuffer = 4 << 20

// PathConfig describes one emulated WAN path between two UDP endpoints, A
// and B (two OpenVPN peers, say). The relay has one socket facing each end:
// A sends to ListenA, and the relay passes the datagram on to PeerB from
// ListenB; B sends to ListenB and the relay passes it to PeerA from
// ListenA. So each end sees its peer at one fixed address, the relay's
// socket facing it, which is what OpenVPN's remote must be set to.
type PathConfig struct {
	// Name names the path in errors and logs ("site-a<->site-b").
	Name string `json:"name"`
	// ListenA is the relay's address facing A (A's remote). Port 0 picks
	// a free port; Path.AddrA tells which.
	ListenA netip.AddrPort `json:"listenA"`
	// ListenB is the relay's address facing B (B's remote).
	ListenB netip.AddrPort `json:"listenB"`
	// PeerA is A's own address. Datagrams reaching ListenA from anywhere
	// else are ignored and counted as Foreign.
	PeerA netip.AddrPort `json:"peerA"`
	// PeerB is B's own address.
	PeerB netip.AddrPort `json:"peerB"`
	// AtoB and BtoA shape each direction; Link.OneWay gives both.
	AtoB Shape `json:"aToB"`
	BtoA Shape `json:"bToA"`
	// Seed seeds the random numbers behind jitter and loss, so a run can
	// be repeated.
	Seed uint64 `json:"seed,omitempty"`
	// QueueLimit bounds the datagrams held per direction; 0 means
	// DefaultQueueLimit. A datagram arriving at a full queue is dropped and
	// counted.
	QueueLimit int `json:"queueLimit,omitempty"`
	// Realtime runs each direction's sender on an OS thread of its own at
	// a low realtime priority (SCHED_RR 10) where permitted (root or
	// CAP_SYS_NICE; Linux), so that a busy machine does not delay
	// datagrams; otherwise at normal priority. DirStats.Realtime says which.
	Realtime bool `json:"realtime,omitempty"`
	// Log receives debug records; nil discards them.
	Log *slog.Logger `json:"-"`
}

func (c PathConfig) validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		ap   netip.AddrPort
		port bool
	}{{"ListenA", c.ListenA, false}, {"ListenB", c.ListenB, false}, {"PeerA", c.PeerA, true}, {"PeerB", c.PeerB, true}} {
		if !f.ap.Addr().IsValid() || (f.port && f.ap.Port() == 0) {
			errs = append(errs, fmt.Errorf("%s %q: want an address and port", f.name, f.ap))
		}
	}
	if err := c.AtoB.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("AtoB: %w", err))
	}
	if err := c.BtoA.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("BtoA: %w", err))
	}
	if c.QueueLimit < 0 {
		errs = append(errs, fmt.Errorf("QueueLimit %d: must not be negative", c.QueueLimit))
	}
	return errors.Join(errs...)
}

// DirStats counts what happened to the datagrams of one direction.
type DirStats struct {
	// Received counts datagrams from the expected peer.
	Received uint64 `json:"received"`
	// Forwarded counts datagrams sent on to the other end.
	Forwarded uint64 `json:"forwarded"`
	// Lost counts datagrams dropped by the emulated loss.
	Lost uint64 `json:"lost"`
	// Dropped counts datagrams dropped because the queue was full.
	Dropped uint64 `json:"dropped"`
	// Foreign counts datagrams from an address other than the peer.
	Foreign uint64 `json:"foreign"`
	// SendErrors counts datagrams the kernel refused to send.
	SendErrors uint64 `json:"sendErrors"`
	// Cut counts datagrams dropped because the path was cut (SetCut).
	Cut uint64 `json:"cut,omitempty"`
	// MaxQueue is the most datagrams held at once.
	MaxQueue int `json:"maxQueue"`
	// LateMedian is the median of how late the last 1024 datagrams left
	// the relay (negative: early): the relay's own error, apart from the
	// delays of the endpoints and the network.
	LateMedian time.Duration `json:"lateMedian"`
	// Realtime says the sender runs at realtime priority.
	Realtime bool `json:"realtime"`
}

// PathStats are the counters of both directions of a path.
type PathStats struct {
	AtoB DirStats `json:"aToB"`
	BtoA DirStats `json:"bToA"`
}

// Path is a running (or ready to run) emulated WAN path.
type Path struct {
	name         string
	connA, connB *net.UDPConn
	ab, ba       *direction
	started      atomic.Bool
	closeOnce    sync.Once
}

// ListenPath validates cfg and opens the path's two sockets. Nothing is
// relayed until Run.
func ListenPath(ctx context.Context, cfg PathConfig) (*Path, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("relay path %q: %w", cfg.Name, err)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("path", cfg.Name)
	limit := cfg.QueueLimit
	if limit == 0 {
		limit = DefaultQueueLimit
	}
	connA, err := listenUDP(ctx, cfg.ListenA)
	if err != nil {
		return nil, fmt.Errorf("relay path %q: ListenA: %w", cfg.Name, err)
	}
	connB, err := listenUDP(ctx, cfg.ListenB)
	if err != nil {
		connA.Close()
		return nil, fmt.Errorf("relay path %q: ListenB: %w", cfg.Name, err)
	}
	return &Path{
		name:  cfg.Name,
		connA: connA,
		connB: connB,
		ab:    newDirection("a->b", connA, connB, cfg.PeerA, cfg.PeerB, cfg.AtoB, cfg.Seed, 1, limit, cfg.Realtime, log),
		ba:    newDirection("b->a", connB, connA, cfg.PeerB, cfg.PeerA, cfg.BtoA, cfg.Seed, 2, limit, cfg.Realtime, log),
	}, nil
}

func listenUDP(ctx context.Context, ap netip.AddrPort) (*net.UDPConn, error) {
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", ap.String())
	if err != nil {
		return nil, err
	}
	conn := pc.(*net.UDPConn)
	// Best effort: the kernel caps the sizes, and a smaller buffer only
	// means earlier drops under bursts, which the counters show.
	_ = conn.SetReadBuffer(socketBuffer)
	_ = conn.SetWriteBuffer(socketBuffer)
	enableRxTimestamps(conn)
	return conn, nil
}

// AddrA is the relay's address facing A: the address A must send to.
func (p *Path) AddrA() netip.AddrPort { return p.connA.LocalAddr().(*net.UDPAddr).AddrPort() }

// AddrB is the relay's address facing B: the address B must send to.
func (p *Path) AddrB() netip.AddrPort { return p.connB.LocalAddr().(*net.UDPAddr).AddrPort() }

// Run relays datagrams until ctx is done, then closes the sockets, drops
// what is still queued and returns nil. A Path runs once.
func (p *Path) Run(ctx context.Context) error {
	if !p.started.CompareAndSwap(false, true) {
		return fmt.Errorf("relay path %q: already run", p.name)
	}
	var wg sync.WaitGroup
	for _, d := range []*direction{p.ab, p.ba} {
		wg.Go(d.read)
		wg.Go(func() { d.schedule(ctx) })
	}
	<-ctx.Done()
	p.Close()
	wg.Wait()
	return nil
}

// Close closes the sockets; a running Run stops relaying. Use it for a
// Path that is never run.
func (p *Path) Close() error {
	var err error
	p.closeOnce.Do(func() {
		err = errors.Join(p.connA.Close(), p.connB.Close())
	})
	return err
}

// Stats returns the counters so far; safe to call while the path runs.
func (p *Path) Stats() PathStats {
	return PathStats{AtoB: p.ab.stats(), BtoA: p.ba.stats()}
}

// Name is the path's name (PathConfig.Name).
func (p *Path) Name() string { return p.name }

// Shape returns the shapes each direction applies now.
func (p *Path) Shape() (aToB, bToA Shape) {
	return *p.ab.shape.Load(), *p.ba.shape.Load()
}

// SetShape changes the shape of each direction, at once and while the path
// runs: a datagram arriving after the call gets the new delay, jitter and
// loss; datagrams already queued keep the due time they were given (so a
// shorter delay takes effect after at most the old one). A shape that
// Validate refuses is an error and changes nothing.
func (p *Path) SetShape(aToB, bToA Shape) error {
	if err := aToB.Validate(); err != nil {
		return fmt.Errorf("relay path %q: AtoB: %w", p.name, err)
	}
	if err := bToA.Validate(); err != nil {
		return fmt.Errorf("relay path %q: BtoA: %w", p.name, err)
	}
	p.ab.shape.Store(&aToB)
	p.ba.shape.Store(&bToA)
	return nil
}

// SetCut cuts the path (cut true: every datagram arriving from either end
// is dropped and counted as DirStats.Cut, as if the link between the sites
// were gone) or restores it. Datagrams already queued still leave.
func (p *Path) SetCut(cut bool) {
	p.ab.cut.Store(cut)
	p.ba.cut.Store(cut)
}

// Cut reports whether the path is cut.
func (p *Path) Cut() bool { return p.ab.cut.Load() }

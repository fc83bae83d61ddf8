package wan

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// fineWindow is how long before a datagram is due the scheduler stops
	// waiting on a Go timer (interruptible, but late by up to ~1 ms) and
	// sleeps with preciseSleep instead.
	fineWindow = 2 * time.Millisecond
	// leadStep and maxLead tune the wake-up lead: the scheduler wakes
	// lead before a datagram is due and, after each precise sleep, moves
	// lead by leadStep towards how late the first datagram then left (the
	// oversleep plus the send), a stochastic estimate of its median, so
	// that the median datagram leaves on time.
	leadStep    = 10 * time.Microsecond
	maxLead     = time.Millisecond
	initialLead = 100 * time.Microsecond
	// lateSamples is how many recent datagrams DirStats.LateMedian covers.
	lateSamples = 1024
)

// direction relays datagrams from one end of a path to the other. Its
// reader goroutine receives, applies loss and picks each delay; its
// scheduler goroutine sends each datagram when it is due.
type direction struct {
	name     string
	in, out  *net.UDPConn
	from, to netip.AddrPort
	// shape is the direction's current shape and cut whether it drops
	// everything; both change while the path runs (Path.SetShape,
	// Path.SetCut), read by the reader goroutine per datagram.
	shape   atomic.Pointer[Shape]
	cut     atomic.Bool
	rng     *rand.Rand // reader goroutine only
	lastDue time.Time  // reader goroutine only
	limit   int
	log     *slog.Logger

	mu       sync.Mutex
	q        dueQueue
	seq      uint64
	maxQueue int
	wake     chan struct{}

	lead time.Duration // scheduler goroutine only

	wantRealtime bool
	realtime     atomic.Bool

	// late holds how late the most recent datagrams left (send time minus
	// due time), a ring under mu, for DirStats.LateMedian.
	late     [lateSamples]time.Duration
	lateNext int
	lateLen  int

	received, forwarded, lost, dropped, foreign, sendErrors, cutDrops atomic.Uint64
}

func newDirection(name string, in, out *net.UDPConn, from, to netip.AddrPort, shape Shape, seed, stream uint64, limit int, realtime bool, log *slog.Logger) *direction {
	d := &direction{
		wantRealtime: realtime,
		name:         name,
		in:           in,
		out:          out,
		from:         unmap(from),
		to:           unmap(to),
		rng:          rand.New(rand.NewPCG(seed, stream)),
		limit:        limit,
		log:          log.With("direction", name),
		wake:         make(chan struct{}, 1),
		lead:         initialLead,
	}
	d.shape.Store(&shape)
	return d
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

func (d *direction) read() {
	buf := make([]byte, 64<<10)
	oob := make([]byte, oobSize)
	for {
		n, oobn, _, src, err := d.in.ReadMsgUDPAddrPort(buf, oob)
		arrived := arrivalTime(oob[:oobn], time.Now())
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			d.log.Debug("relay read", "err", err)
			time.Sleep(time.Millisecond) // no busy loop on a persistent error
			continue
		}
		if unmap(src) != d.from {
			d.foreign.Add(1)
			continue
		}
		d.received.Add(1)
		if d.cut.Load() {
			d.cutDrops.Add(1)
			continue
		}
		shape := *d.shape.Load()
		if shape.LossPct > 0 && d.rng.Float64()*100 < shape.LossPct {
			d.lost.Add(1)
			continue
		}
		delay := shape.Delay
		if shape.Jitter > 0 {
			delay += time.Duration((d.rng.Float64()*2 - 1) * float64(shape.Jitter))
		}
		due := arrived.Add(delay)
		if shape.Jitter == 0 {
			// Arrival stamps can step back by a hair (wall clock read
			// against monotonic); a constant delay must never reorder.
			if due.Before(d.lastDue) {
				due = d.lastDue
			}
			d.lastDue = due
		}
		d.enqueue(due, slices.Clone(buf[:n]))
	}
}

func (d *direction) enqueue(due time.Time, data []byte) {
	d.mu.Lock()
	if len(d.q) >= d.limit {
		d.mu.Unlock()
		d.dropped.Add(1)
		return
	}
	d.seq++
	d.q.push(datagram{due: due, seq: d.seq, data: data})
	d.maxQueue = max(d.maxQueue, len(d.q))
	isHead := d.q[0].seq == d.seq
	d.mu.Unlock()
	if isHead {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}

func (d *direction) schedule(ctx context.Context) {
	if d.wantRealtime {
		// Locked for good: the thread dies with this goroutine, and its
		// priority with it.
		runtime.LockOSThread()
		d.realtime.Store(makeRealtime())
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var (
		batch []datagram
		slept bool // the next batch follows a precise sleep
	)
	for {
		d.mu.Lock()
		if len(d.q) == 0 {
			d.mu.Unlock()
			select {
			case <-d.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		target := d.q[0].due.Add(-d.lead)
		wait := time.Until(target)
		if wait <= 0 {
			cutoff := time.Now().Add(d.lead)
			batch = batch[:0]
			for len(d.q) > 0 && !d.q[0].due.After(cutoff) {
				batch = append(batch, d.q.pop())
			}
			d.mu.Unlock()
			late := d.send(batch)
			if slept {
				d.adjustLead(late)
				slept = false
			}
			continue
		}
		d.mu.Unlock()
		if wait > fineWindow {
			slept = false
			timer.Reset(wait - fineWindow)
			select {
			case <-d.wake:
			case <-timer.C:
			case <-ctx.Done():
				return
			}
			continue
		}
		preciseSleep(wait)
		slept = true
		if ctx.Err() != nil {
			return
		}
	}
}

// adjustLead moves the lead one step in the direction that brings late,
// how late a datagram left, towards zero: a stochastic estimate of the
// lead whose median lateness is zero.
func (d *direction) adjustLead(late time.Duration) {
	if late > 0 {
		d.lead = min(d.lead+leadStep, maxLead)
	} else {
		d.lead = max(d.lead-leadStep, 0)
	}
}

// send writes out batch and returns how late its first datagram left.
func (d *direction) send(batch []datagram) (late time.Duration) {
	lates := make([]time.Duration, 0, len(batch))
	defer func() { d.recordLate(lates) }()
	for i := range batch {
		if _, err := d.out.WriteToUDPAddrPort(batch[i].data, d.to); err != nil {
			d.sendErrors.Add(1)
			d.log.Debug("relay send", "to", d.to, "err", err)
		} else {
			d.forwarded.Add(1)
		}
		l := time.Since(batch[i].due)
		lates = append(lates, l)
		if i == 0 {
			late = l
		}
		batch[i] = datagram{}
	}
	return late
}

func (d *direction) recordLate(lates []time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, l := range lates {
		d.late[d.lateNext] = l
		d.lateNext = (d.lateNext + 1) % lateSamples
		d.lateLen = min(d.lateLen+1, lateSamples)
	}
}

func (d *direction) stats() DirStats {
	d.mu.Lock()
	maxQueue := d.maxQueue
	recent := slices.Clone(d.late[:d.lateLen])
	d.mu.Unlock()
	var lateMedian time.Duration
	if len(recent) > 0 {
		slices.Sort(recent)
		lateMedian = recent[len(recent)/2]
	}
	return DirStats{
		Received:   d.received.Load(),
		Forwarded:  d.forwarded.Load(),
		Lost:       d.lost.Load(),
		Dropped:    d.dropped.Load(),
		Foreign:    d.foreign.Load(),
		SendErrors: d.sendErrors.Load(),
		Cut:        d.cutDrops.Load(),
		MaxQueue:   maxQueue,
		LateMedian: lateMedian,
		Realtime:   d.realtime.Load(),
	}
}

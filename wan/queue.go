package wan

import (
	"container/heap"
	"time"
)

// datagram is one queued datagram and when it is due out.
type datagram struct {
	due  time.Time
	seq  uint64 // arrival order, the tie-break that keeps equal delays in order
	data []byte
}

// dueQueue is a min-heap of datagrams by (due, seq). With a constant delay
// due times follow arrival order, so it behaves as a FIFO; with jitter it
// releases datagrams in due order, reordering them as a real path with
// variable delay would.
type dueQueue []datagram

func (q dueQueue) Len() int { return len(q) }
func (q dueQueue) Less(i, j int) bool {
	if q[i].due.Equal(q[j].due) {
		return q[i].seq < q[j].seq
	}
	return q[i].due.Before(q[j].due)
}
func (q dueQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *dueQueue) Push(x any)   { *q = append(*q, x.(datagram)) }
func (q *dueQueue) Pop() any {
	old := *q
	d := old[len(old)-1]
	old[len(old)-1] = datagram{}
	*q = old[:len(old)-1]
	return d
}

func (q *dueQueue) push(d datagram) { heap.Push(q, d) }
func (q *dueQueue) pop() datagram   { return heap.Pop(q).(datagram) }

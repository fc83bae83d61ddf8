package gossip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/experiment"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// fakeNet is a stand-in testbed with stand-in peers for the run's
// workflow (phases, collection, the folder, an interrupted run): every
// peer publishes every 50 ms from the start; a message reaches each other
// peer after its sites' one-way delay unless their tunnel is cut when it
// would cross. The states are made when asked for (curl on the peer's
// node, answered by the fake runner). It has no routers to probe.
type fakeNet struct {
	topo  *topology.Topology
	peers []peer
	delay time.Duration
	start time.Time

	mu    sync.Mutex
	cuts  map[wan.Pair][][2]time.Time // cut intervals; an open one ends at zero time
	calls []string
}

func newFakeNet(t *testing.T) *fakeNet {
	topo, err := Topology("planet")
	require.NoError(t, err)
	o := Options{Dir: "x", Binary: []byte{1}}
	o.defaults()
	peers, err := o.plan(topo)
	require.NoError(t, err)
	return &fakeNet{topo: topo, peers: peers, delay: 30 * time.Millisecond, start: time.Now(), cuts: map[wan.Pair][][2]time.Time{}}
}

func (f *fakeNet) Topology() *topology.Topology { return f.topo }

func (f *fakeNet) Dial(_ context.Context, machine string) (remote.Runner, error) {
	for _, p := range f.peers {
		if p.node == machine {
			return fakeNode{f, p}, nil
		}
	}
	return nil, errors.New("fake testbed: no router to dial")
}

func (f *fakeNet) Shape(string, string) (wan.Shape, wan.Shape, error) {
	return wan.Shape{Delay: f.delay}, wan.Shape{Delay: f.delay}, nil
}

func (f *fakeNet) SetShape(context.Context, string, string, wan.Shape) error {
	return errors.New("fake testbed: shapes are fixed")
}

func (f *fakeNet) SetCut(_ context.Context, a, b string, cut bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := wan.NewPair(a, b)
	f.calls = append(f.calls, fmt.Sprintf("cut %s %v", k, cut))
	iv := f.cuts[k]
	switch {
	case cut && (len(iv) == 0 || !iv[len(iv)-1][1].IsZero()):
		f.cuts[k] = append(iv, [2]time.Time{time.Now()})
	case !cut && len(iv) > 0 && iv[len(iv)-1][1].IsZero():
		iv[len(iv)-1][1] = time.Now()
	}
	return nil
}

func (f *fakeNet) StopMachine(context.Context, string) error  { return nil }
func (f *fakeNet) StartMachine(context.Context, string) error { return nil }
func (f *fakeNet) Facts(context.Context) map[string]string {
	return map[string]string{"testbed": "fake"}
}

// cutAt reports whether the tunnel between a and b is cut at t.
func (f *fakeNet) cutAt(a, b string, t time.Time) bool {
	for _, iv := range f.cuts[wan.NewPair(a, b)] {
		if !t.Before(iv[0]) && (iv[1].IsZero() || t.Before(iv[1])) {
			return true
		}
	}
	return false
}

// state is what peer p would report now.
func (f *fakeNet) state(p peer) PeerState {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	st := PeerState{Node: p.node, ID: "fake-" + p.node}
	for seq := int64(1); ; seq++ {
		sent := f.start.Add(time.Duration(seq) * 50 * time.Millisecond)
		if sent.After(now) {
			break
		}
		st.Sent = append(st.Sent, [2]int64{seq, sent.UnixNano()})
		for _, q := range f.peers {
			arrive := sent.Add(f.delay)
			if q.node == p.node || arrive.After(now) || q.site != p.site && f.cutAt(q.site, p.site, sent) {
				continue
			}
			st.Received = append(st.Received, Receipt{From: q.node, Seq: seq, SentNs: sent.UnixNano(), RecvNs: arrive.UnixNano()})
		}
	}
	return st
}

func (f *fakeNet) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

var _ experiment.Testbed = (*fakeNet)(nil)

// fakeNode answers the collector's curl with its peer's state.
type fakeNode struct {
	f *fakeNet
	p peer
}

func (n fakeNode) Run(_ context.Context, cmd remote.Cmd) error {
	if !strings.Contains(cmd.Command, fmt.Sprintf("http://%s:%d/state", n.p.addr, HTTPPort)) {
		return fmt.Errorf("fake node %s: unexpected command %q", n.p.node, cmd.Command)
	}
	return json.NewEncoder(cmd.Stdout).Encode(n.f.state(n.p))
}

func (n fakeNode) WriteFile(context.Context, string, []byte, fs.FileMode) error { return nil }
func (n fakeNode) ReadFile(context.Context, string) ([]byte, error)             { return nil, fs.ErrNotExist }
func (n fakeNode) Host() string                                                 { return n.p.node }

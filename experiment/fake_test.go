package experiment

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// testTopology: three Linux-router sites in a mesh, with locations.
func testTopology() *topology.Topology {
	addr, pfx := netip.MustParseAddr, netip.MustParsePrefix
	site := func(name string, n int, city string) topology.Site {
		p := pfx(fmt.Sprintf("172.48.%d.0/24", n*10))
		return topology.Site{Name: name, VLAN: n * 10, Prefix: p, Location: &topology.Location{City: city},
			Router: topology.Router{Name: "r" + name, Kind: topology.RouterLinux, WAN: addr(fmt.Sprintf("10.48.0.%d", 10+n)), LAN: p.Addr().Next()}}
	}
	t := &topology.Topology{
		APIVersion: topology.APIVersion, Kind: topology.Kind, Name: "ext-exp",
		Underlay: topology.Underlay{Prefix: pfx("10.48.0.0/24")},
		Sites:    []topology.Site{site("tokyo", 1, "Tokyo"), site("frankfurt", 2, "Frankfurt"), site("saopaulo", 3, "São Paulo")},
		VPN:      &topology.VPN{Mode: topology.VPNMesh, Auth: topology.VPNAuthTLS, Transit: pfx("10.48.254.0/24"), Port: 1194},
		Latency:  &topology.Latency{Links: []topology.LatencyLink{{From: "tokyo", To: "frankfurt", RTTMs: 60}}},
	}
	t.SetDefaults()
	return t
}

// fakeTestbed is a stand-in Testbed for unit tests: it keeps shapes and
// cuts in maps and records every call; it has no machines to dial, so its
// probes all fail (the lab test probes a real lab).
type fakeTestbed struct {
	topo *topology.Topology

	mu     sync.Mutex
	shapes map[wan.Pair]wan.Shape
	cut    map[wan.Pair]bool
	calls  []string
	failOn string // a call that fails, by its record
}

func newFake() *fakeTestbed {
	return &fakeTestbed{topo: testTopology(), shapes: map[wan.Pair]wan.Shape{}, cut: map[wan.Pair]bool{}}
}

func (f *fakeTestbed) Topology() *topology.Topology { return f.topo }

func (f *fakeTestbed) Dial(context.Context, string) (remote.Runner, error) {
	return nil, errors.New("fake testbed: nothing to dial")
}

func (f *fakeTestbed) Shape(a, b string) (wan.Shape, wan.Shape, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shapes[wan.NewPair(a, b)]
	return s, s, nil
}

func (f *fakeTestbed) call(c string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	if c == f.failOn {
		return errors.New("fake failure")
	}
	return nil
}

func (f *fakeTestbed) SetShape(_ context.Context, a, b string, s wan.Shape) error {
	if err := f.call(fmt.Sprintf("shape %s %v", wan.NewPair(a, b), s.Delay)); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shapes[wan.NewPair(a, b)] = s
	return nil
}

func (f *fakeTestbed) SetCut(_ context.Context, a, b string, cut bool) error {
	if err := f.call(fmt.Sprintf("cut %s %v", wan.NewPair(a, b), cut)); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cut[wan.NewPair(a, b)] = cut
	return nil
}

func (f *fakeTestbed) StopMachine(_ context.Context, m string) error  { return f.call("stop " + m) }
func (f *fakeTestbed) StartMachine(_ context.Context, m string) error { return f.call("start " + m) }

func (f *fakeTestbed) Facts(context.Context) map[string]string {
	return map[string]string{"testbed": "fake", "relay.seed": "7"}
}

func (f *fakeTestbed) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

var _ Testbed = (*fakeTestbed)(nil)

func shape(d time.Duration, loss float64) *wan.Shape { return &wan.Shape{Delay: d, LossPct: loss} }

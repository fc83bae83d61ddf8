package experiment_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/planetstage/planetstage/experiment"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// standIn is a stand-in Testbed, so that the example runs anywhere: with a
// lab, experiment.ForLab(l) is the testbed. It cannot be dialled, so its
// probes record no reply.
type standIn struct{ topo *topology.Topology }

func (s standIn) Topology() *topology.Topology { return s.topo }
func (standIn) Dial(context.Context, string) (remote.Runner, error) {
	return nil, errors.New("stand-in")
}
func (standIn) Shape(string, string) (wan.Shape, wan.Shape, error) {
	return wan.Shape{}, wan.Shape{}, nil
}
func (standIn) SetShape(context.Context, string, string, wan.Shape) error { return nil }
func (standIn) SetCut(context.Context, string, string, bool) error        { return nil }
func (standIn) StopMachine(context.Context, string) error                 { return nil }
func (standIn) StartMachine(context.Context, string) error                { return nil }
func (standIn) Facts(context.Context) map[string]string                   { return map[string]string{} }

func Example() {
	dir, _ := os.MkdirTemp("", "experiment")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	run, err := experiment.Start(ctx, standIn{twoSites()}, experiment.Options{
		Dir:           dir,
		ProbeInterval: time.Second,
		Schedule: []experiment.Scheduled{
			{After: 10 * time.Millisecond, Event: experiment.Event{Kind: experiment.Partition, Site: "tokyo"}},
			{After: 20 * time.Millisecond, Event: experiment.Event{Kind: experiment.Heal, Site: "tokyo"}},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	time.Sleep(100 * time.Millisecond)
	rec, err := run.Do(ctx, experiment.Event{Kind: experiment.SetLink, From: "tokyo", To: "frankfurt",
		Shape: &wan.Shape{Delay: 120 * time.Millisecond}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rec.Did)
	if err := run.Stop(); err != nil {
		fmt.Println(err)
	}
	_, err = os.Stat(filepath.Join(dir, experiment.ReportFile))
	fmt.Println("report written:", err == nil)

	// Bad input names the value and changes nothing.
	_, err = experiment.Start(ctx, standIn{twoSites()}, experiment.Options{Dir: dir, Schedule: []experiment.Scheduled{
		{Event: experiment.Event{Kind: experiment.SetLink, From: "tokyo", To: "frankfurt", Shape: &wan.Shape{LossPct: 150}}}}})
	fmt.Println(err)
	// Output:
	// tunnel tokyo<->frankfurt: one-way delay 0s -> 120ms, jitter 0s -> 0s, loss 0% -> 0%
	// report written: true
	// experiment: schedule[0]: set-link tokyo<->frankfurt: loss 150%: want a percentage in [0, 100]
}

func twoSites() *topology.Topology {
	t := &topology.Topology{APIVersion: topology.APIVersion, Kind: topology.Kind, Name: "example",
		Underlay: topology.Underlay{Prefix: netip.MustParsePrefix("10.48.0.0/24")},
		VPN:      &topology.VPN{Mode: topology.VPNMesh, Auth: topology.VPNAuthTLS, Transit: netip.MustParsePrefix("10.48.254.0/24"), Port: 1194}}
	for i, name := range []string{"tokyo", "frankfurt"} {
		p := netip.MustParsePrefix(fmt.Sprintf("172.48.%d.0/24", i+1))
		t.Sites = append(t.Sites, topology.Site{Name: name, VLAN: 10 * (i + 1), Prefix: p,
			Router: topology.Router{Name: "r" + name, Kind: topology.RouterLinux,
				WAN: netip.MustParseAddr(fmt.Sprintf("10.48.0.%d", 10+i)), LAN: p.Addr().Next()}})
	}
	t.SetDefaults()
	return t
}

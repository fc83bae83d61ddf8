package layer_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/planetstage/planetstage/esxi/esxitest"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// scaleTopology has 30 sites on one hypervisor: 30 site port groups plus
// the underlay's, 30 routers and 70 hosts, so 100 VMs.
func scaleTopology(h *esxitest.Host) *topology.Topology {
	t := &topology.Topology{
		Name:        "scale",
		Hypervisors: []topology.Hypervisor{{Name: "esxi1", URL: h.URL, Thumbprint: h.Thumbprint}},
		Underlay:    topology.Underlay{Prefix: netip.MustParsePrefix("10.4.0.0/16")},
		Defaults: &topology.Defaults{VMs: map[string]topology.VM{
			"router": {CPUs: 1, MemoryMB: 512, DiskGB: 1}, "worker": {CPUs: 1, MemoryMB: 512, DiskGB: 1}}},
	}
	for i := range 30 {
		s := topology.Site{
			Name: fmt.Sprintf("s%02d", i), VLAN: 100 + i, Hypervisor: "esxi1",
			Prefix: netip.MustParsePrefix(fmt.Sprintf("192.168.%d.0/24", i)),
			Router: topology.Router{Name: fmt.Sprintf("r%02d", i), Kind: topology.RouterLinux,
				WAN: netip.MustParseAddr(fmt.Sprintf("10.4.0.%d", 10+i)), LAN: netip.MustParseAddr(fmt.Sprintf("192.168.%d.1", i))},
		}
		hosts := 2
		if i < 10 {
			hosts = 3
		}
		for j := range hosts {
			s.Hosts = append(s.Hosts, topology.Host{Name: fmt.Sprintf("h%02d-%d", i, j), Role: topology.RoleWorker,
				Address: netip.MustParseAddr(fmt.Sprintf("192.168.%d.%d", i, 100+j))})
		}
		t.Sites = append(t.Sites, s)
	}
	return t
}

// BenchmarkESXiLayerScale applies 100 VMs and 31 port groups (plus the
// vSwitch and 100 power-ons) to a simulated standalone host through the
// plan walk, one step at a time and with the walk's parallelism. Each
// iteration starts from an empty host; destroy is not timed.
func BenchmarkESXiLayerScale(b *testing.B) {
	for _, par := range []int{1, 8} {
		name := "sequential"
		if par > 1 {
			name = fmt.Sprintf("parallel-%d", par)
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				b.StopTimer()
				h := esxitest.New(b, esxitest.Options{})
				topo := scaleTopology(h)
				st, err := topology.OpenState(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				opts := &layer.ESXiOptions{Getenv: esxitest.Getenv}
				env := &layer.Env{State: st, ESXi: opts}
				g, err := layer.Plan(topo, env, "esxi")
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				res, err := plan.Walk(ctx, g, plan.Options{Apply: true, Parallelism: par})
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				if s := res.Summary(); s.Created != 1+31+100 || s.Updated != 100 {
					b.Fatalf("unexpected result: %s", res)
				}
				_ = opts.Close(ctx)
				b.StartTimer()
			}
		})
	}
}

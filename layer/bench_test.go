package layer

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// generated returns a hub-spoke testbed of n sites with hostsPerSite hosts
// each, every site on its own hypervisor VLAN: the shape of a large
// experiment. Site i is 10.(i/256).(i%256).0/24.
func generated(n, hostsPerSite int) *topology.Topology {
	t := &topology.Topology{
		Name:        "bench",
		Hypervisors: []topology.Hypervisor{{Name: "esxi1", URL: "https://10.4.0.13/sdk"}},
		Underlay:    topology.Underlay{Prefix: netip.MustParsePrefix("100.64.0.0/16")},
		VPN:         &topology.VPN{Mode: topology.VPNHubSpoke, Hub: "site-0000", Transit: netip.MustParsePrefix("172.16.0.0/12")},
		Cluster: &topology.Cluster{PodSubnet: netip.MustParsePrefix("192.168.0.0/16"),
			ServiceSubnet: netip.MustParsePrefix("198.18.0.0/15")},
	}
	for i := range n {
		prefix := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i / 256), byte(i % 256), 0}), 24)
		at := func(host byte) netip.Addr { b := prefix.Addr().As4(); b[3] = host; return netip.AddrFrom4(b) }
		s := topology.Site{
			Name: fmt.Sprintf("site-%04d", i), VLAN: 1 + i, Prefix: prefix, Hypervisor: "esxi1",
			Router: topology.Router{Name: fmt.Sprintf("r-%04d", i), Kind: topology.RouterLinux,
				WAN: netip.AddrFrom4([4]byte{100, 64, byte((i + 1) / 256), byte((i + 1) % 256)}), LAN: at(1)},
		}
		for h := range hostsPerSite {
			role := topology.RoleWorker
			if i == 0 {
				role = []string{topology.RoleLoadBalancer, topology.RoleControlPlane, topology.RoleControlPlane, topology.RoleControlPlane}[min(h, 3)]
			}
			s.Hosts = append(s.Hosts, topology.Host{Name: fmt.Sprintf("h-%04d-%02d", i, h), Address: at(byte(10 + h)), Role: role})
		}
		t.Sites = append(t.Sites, s)
	}
	return t
}

// BenchmarkPlan measures validating a topology and building and walking its
// plan (inspect only, with the layers that need no network answering from
// state), at 10, 100 and 1 000 sites of 10 hosts. Target: ≤ 1 s at 1 000
// sites, close to linear growth.
func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		top := generated(n, 10)
		b.Run(fmt.Sprintf("sites=%d", n), func(b *testing.B) {
			st, err := topology.OpenState(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			// As stage plan does it: what the state lacks (a VM's host key) is
			// made in memory and not written (topology.State.DryRun).
			env := &Env{State: st.DryRun()}
			b.ReportAllocs()
			for b.Loop() {
				if err := top.Validate(); err != nil {
					b.Fatal(err)
				}
				g, err := Plan(top, env)
				if err != nil {
					b.Fatal(err)
				}
				if err := g.Validate(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(g.Len()), "steps")
			}
		})
	}
}

// BenchmarkWalk measures the plan engine alone: walking a graph shaped like
// a large testbed's (a port group per site, a VM per machine, a router step
// per site), with steps that do no work.
func BenchmarkWalk(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		g := new(plan.Graph)
		noop := plan.Funcs{
			InspectFunc: func(context.Context) (plan.Change, error) { return plan.Change{Action: plan.NoOp}, nil },
			ApplyFunc:   func(context.Context, plan.Change) error { return nil },
		}
		for s := range n {
			pg := fmt.Sprintf("pg/%d", s)
			_ = g.Add(plan.Node{ID: pg, Step: noop})
			var vms []string
			for h := range 11 {
				vm := fmt.Sprintf("vm/%d/%d", s, h)
				vms = append(vms, vm)
				_ = g.Add(plan.Node{ID: vm, Deps: []string{pg}, Step: noop})
			}
			_ = g.Add(plan.Node{ID: fmt.Sprintf("router/%d", s), Deps: vms, Step: noop})
		}
		b.Run(fmt.Sprintf("sites=%d/steps=%d", n, g.Len()), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := plan.Walk(context.Background(), g, plan.Options{Apply: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

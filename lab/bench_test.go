package lab_test

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/reach"
	"github.com/planetstage/planetstage/topology"
)

// benchTopology is a testbed of n sites with hosts each, Linux routers, on
// prefixes of its own (10.27/16, 172.27.<site>.0/24).
func benchTopology(name string, n, hosts int, mode string) *topology.Topology {
	t := &topology.Topology{APIVersion: topology.APIVersion, Kind: topology.Kind, Name: name,
		Underlay: topology.Underlay{Prefix: netip.MustParsePrefix("10.27.0.0/16")},
		VPN: &topology.VPN{Mode: mode, Auth: topology.VPNAuthTLS,
			Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: 1194}}
	for i := 1; i <= n; i++ {
		p := netip.MustParsePrefix(fmt.Sprintf("172.27.%d.0/24", i))
		s := topology.Site{Name: fmt.Sprintf("s%d", i), VLAN: i, Prefix: p,
			Router: topology.Router{Name: fmt.Sprintf("r%d", i), Kind: topology.RouterLinux,
				WAN: netip.MustParseAddr(fmt.Sprintf("10.27.0.%d", i)), LAN: p.Addr().Next()}}
		for h := 1; h <= hosts; h++ {
			s.Hosts = append(s.Hosts, topology.Host{Name: fmt.Sprintf("s%dh%d", i, h),
				Address: netip.MustParseAddr(fmt.Sprintf("172.27.%d.%d", i, 100+h)), Role: topology.RoleGeneric})
		}
		t.Sites = append(t.Sites, s)
	}
	if mode == topology.VPNHubSpoke {
		t.VPN.Hub = "s1"
	}
	t.SetDefaults()
	return t
}

func needDockerB(b *testing.B) {
	b.Helper()
	if err := exec.Command("docker", "version").Run(); err != nil {
		b.Skipf("needs a running Docker engine: %v", err)
	}
}

// BenchmarkUpDown: a lab of 3 sites with 2 hosts each (9 containers) up,
// sshd answering, and down again; the node image is cached.
func BenchmarkUpDown(b *testing.B) {
	needDockerB(b)
	ctx := context.Background()
	t := benchTopology("labbench-up", 3, 2, topology.VPNMesh)
	state := b.TempDir()
	for b.Loop() {
		l, err := lab.Up(ctx, t, lab.Options{StateDir: state})
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Down(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNetwork measures what the thesis's network costs in the lab:
// sites up, the routers layer applied, and the matrix whole (every pair
// answers), then a second apply that must change nothing. Reported:
// seconds to a verified network, and the no-op apply as a share of the
// first apply.
func BenchmarkNetwork(b *testing.B) {
	for _, bc := range []struct {
		name        string
		sites, host int
		mode        string
	}{
		{"thesis-shape-3-sites-mesh", 3, 3, topology.VPNMesh},
		{"10-sites-hub-spoke", 10, 1, topology.VPNHubSpoke},
	} {
		b.Run(bc.name, func(b *testing.B) {
			needDockerB(b)
			if !slices.Contains(layer.Names(), "routers") {
				b.Skip("the routers layer is not in this build")
			}
			ctx := context.Background()
			t := benchTopology("labbench-net", bc.sites, bc.host, bc.mode)
			var upVerified, applyDur, noopDur time.Duration
			for b.Loop() {
				start := time.Now()
				l, err := lab.Up(ctx, t, lab.Options{StateDir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				state, err := topology.OpenState(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				env := l.Env(state)
				walk := func() time.Duration {
					g, err := layer.Plan(l.Topology(), env, "routers")
					if err != nil {
						b.Fatal(err)
					}
					s := time.Now()
					if _, err := plan.Walk(ctx, g, plan.Options{Apply: true}); err != nil {
						b.Fatal(err)
					}
					return time.Since(s)
				}
				applyDur += walk()
				wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
				m, err := l.MatrixUntil(wctx, func(m reach.Matrix) bool { return len(m.Unreachable()) == 0 })
				cancel()
				if err != nil || len(m.Unreachable()) > 0 {
					b.Fatalf("not every pair answers: %v\n%s", err, m.Table())
				}
				upVerified += time.Since(start)
				noopDur += walk()
				if err := l.Down(ctx); err != nil {
					b.Fatal(err)
				}
			}
			n := float64(b.N)
			b.ReportMetric(upVerified.Seconds()/n, "s-up-verified")
			b.ReportMetric(applyDur.Seconds()/n, "s-apply")
			b.ReportMetric(100*noopDur.Seconds()/applyDur.Seconds(), "%noop-of-apply")
		})
	}
}

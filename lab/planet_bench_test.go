package lab_test

import (
	"context"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// BenchmarkPlanet brings up the first 10, 25 and all 50 cities of the
// planet50 preset (its hubs come first, so each size has all six), one
// Linux router and one host per site, with the latency of the distances
// through the lab's WAN relay, and reports what issue 18 asks of it:
//
//   - s-up-verified: lab.Up and Apply of every layer but the cluster,
//     which returns once every pair of machines answers;
//   - s-matrix: one reachability matrix of every ordered machine pair
//     (100 machines: 9 900 pairs, one command per source machine), taken
//     right after Apply; unreachable-pairs: the pairs it missed;
//   - %paths-within-5: of 50 site pairs sampled evenly (all pairs when
//     fewer), the share whose end-to-end RTT, through the hubs it
//     crosses, is within 5 % of its target; worst-%: the largest error;
//   - MiB, MiB/site and %cpu-idle: the containers' memory, and their CPU
//     once up, idle (in percent of one core);
//   - %noop-of-apply: a second apply (no change) as a share of the first.
//
// Run it on an otherwise idle machine; it needs Docker and the lab image:
//
//	go test -run XXX -bench BenchmarkPlanet -benchtime 1x -timeout 60m ./lab
func BenchmarkPlanet(b *testing.B) {
	cities, hubs, err := wan.GeoPresetCities("planet50")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10, 25, 50} {
		b.Run(strconv.Itoa(n)+"-sites", func(b *testing.B) {
			needDockerB(b)
			ctx := context.Background()
			topo, err := topology.Planet(topology.PlanetOptions{Name: "planetbench", Cities: cities[:n], Hubs: hubs})
			if err != nil {
				b.Fatal(err)
			}
			var up, matrix, apply, noop time.Duration
			var within, measured, worst, mem, cpu, unreachable float64
			for b.Loop() {
				start := time.Now()
				l, err := lab.Up(ctx, topo, lab.Options{StateDir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				s := time.Now()
				if _, err := l.Apply(ctx, lab.ApplyOptions{Converge: 10 * time.Minute}); err != nil {
					_ = l.Down(ctx)
					b.Fatal(err)
				}
				apply += time.Since(s)
				up += time.Since(start)

				// Apply returned once every pair answered; a second matrix
				// at once, on a machine still at a load of tens, may miss a
				// pair whose ping waited behind the queue: counted, not
				// fatal, and its pairs named.
				s = time.Now()
				m, err := l.Matrix(ctx)
				matrix += time.Since(s)
				if err != nil {
					_ = l.Down(ctx)
					b.Fatalf("matrix: %v", err)
				}
				if broken := m.Unreachable(); len(broken) > 0 {
					unreachable += float64(len(broken))
					b.Logf("%d sites: %v", n, m.CheckConnected())
				}
				rep, err := l.MeasureWAN(ctx, layer.MeasureOptions{Pings: 10, Interval: 200 * time.Millisecond, Paths: 50}, nil)
				if err != nil {
					b.Logf("measure: %v", err)
				}
				b.Logf("%d sites, %s:\n%s", n, rep.Sample, rep.Table())
				for _, r := range rep.Sites {
					measured++
					if math.Abs(r.ErrorPct) <= 5 {
						within++
					}
					worst = max(worst, math.Abs(r.ErrorPct))
				}
				if usage, err := l.Usage(ctx); err == nil {
					total := lab.TotalUsage(usage)
					mem += total.MemoryMiB
					cpu += total.CPUPct
				}
				s = time.Now()
				if _, err := l.Apply(ctx, lab.ApplyOptions{}); err != nil {
					b.Fatal(err)
				}
				noop += time.Since(s)
				if err := l.Down(ctx); err != nil {
					b.Fatal(err)
				}
			}
			runs := float64(b.N)
			b.ReportMetric(up.Seconds()/runs, "s-up-verified")
			b.ReportMetric(matrix.Seconds()/runs, "s-matrix")
			b.ReportMetric(unreachable/runs, "unreachable-pairs")
			if measured > 0 {
				b.ReportMetric(100*within/measured, "%paths-within-5")
				b.ReportMetric(worst, "worst-%")
			}
			b.ReportMetric(mem/runs, "MiB")
			b.ReportMetric(mem/runs/float64(n), "MiB/site")
			b.ReportMetric(cpu/runs, "%cpu-idle")
			b.ReportMetric(100*noop.Seconds()/apply.Seconds(), "%noop-of-apply")
		})
	}
}

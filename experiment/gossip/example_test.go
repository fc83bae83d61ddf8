package gossip_test

import (
	"fmt"
	"os"
	"time"

	"github.com/planetstage/planetstage/experiment/gossip"
)

// Compute turns what the peers recorded into latency per site pair and
// delivery per site and phase; here two peers, one message each way
// before a partition of site b, nothing during it, one each way after.
func ExampleCompute() {
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) int64 { return t0.Add(d).UnixNano() }
	msg := func(from string, seq int64, sent, took time.Duration) gossip.Receipt {
		return gossip.Receipt{From: from, Seq: seq, SentNs: at(sent), RecvNs: at(sent + took)}
	}
	oneWay := map[[2]string]time.Duration{{"a", "b"}: 70 * time.Millisecond, {"b", "a"}: 70 * time.Millisecond}
	res, err := gossip.Compute(gossip.Input{
		States: []gossip.PeerState{
			{Node: "pa", Sent: [][2]int64{{1, at(time.Second)}, {2, at(12 * time.Second)}, {3, at(21 * time.Second)}},
				Received: []gossip.Receipt{msg("pb", 1, time.Second, 72*time.Millisecond), msg("pb", 3, 21*time.Second, 75*time.Millisecond)}},
			{Node: "pb", Sent: [][2]int64{{1, at(time.Second)}, {2, at(12 * time.Second)}, {3, at(21 * time.Second)}},
				Received: []gossip.Receipt{msg("pa", 1, time.Second, 71*time.Millisecond), msg("pa", 3, 21*time.Second, 74*time.Millisecond)}},
		},
		SiteOf: map[string]string{"pa": "a", "pb": "b"}, OneWay: oneWay, Floor: oneWay, Partitioned: "b",
		Timeline: gossip.Timeline{Start: t0, Cut: t0.Add(10 * time.Second), CutDone: t0.Add(10 * time.Second),
			Heal: t0.Add(20 * time.Second), HealDone: t0.Add(20 * time.Second), End: t0.Add(30 * time.Second)},
		Deadline: 2 * time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = res.WriteText(os.Stdout)
	fmt.Println("problems:", len(res.Problems))
	// Output:
	// from  to  one-way ms  RTT ms  p50 ms  p99 ms  min ms  messages
	//      a   b        70.0   140.0    71.0    74.0    71.0         2
	//      b   a        70.0   140.0    72.0    75.0    72.0         2
	//
	// Delivery ratio per site (within 2000 ms), site b partitioned:
	//      site       before       during        after
	//         a  1.000 (1/1)  0.000 (0/1)  1.000 (1/1)
	//   b (cut)  1.000 (1/1)  0.000 (0/1)  1.000 (1/1)
	// problems: 0
}

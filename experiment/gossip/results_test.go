package gossip

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

// synthetic is a run of three peers, one per site, each publishing every
// 100 ms for 30 s; São Paulo is cut from 10 s to 20 s. deliver says
// whether a message reaches a peer and after how long; nil drops it.
func synthetic(deliver func(from, to string, sent time.Time) *time.Duration) Input {
	sites := map[string]string{"tk1": "tokyo", "fr1": "frankfurt", "sp1": "saopaulo"}
	oneWay := map[[2]string]time.Duration{}
	delays := map[[2]string]time.Duration{{"tokyo", "frankfurt"}: 120 * time.Millisecond,
		{"tokyo", "saopaulo"}: 140 * time.Millisecond, {"frankfurt", "saopaulo"}: 100 * time.Millisecond}
	for k, v := range delays {
		oneWay[k], oneWay[[2]string{k[1], k[0]}] = v, v
	}
	states := map[string]*PeerState{}
	for n := range sites {
		states[n] = &PeerState{Node: n}
	}
	for i := range 300 {
		sent := t0.Add(time.Duration(i) * 100 * time.Millisecond)
		for from, st := range states {
			st.Sent = append(st.Sent, [2]int64{int64(i + 1), sent.UnixNano()})
			for to, rs := range states {
				if to == from {
					continue
				}
				if l := deliver(sites[from], sites[to], sent); l != nil {
					rs.Received = append(rs.Received, Receipt{From: from, Seq: int64(i + 1), SentNs: sent.UnixNano(), RecvNs: sent.Add(*l).UnixNano()})
				}
			}
		}
	}
	in := Input{SiteOf: sites, OneWay: oneWay, Floor: oneWay, Partitioned: "saopaulo", Deadline: 2 * time.Second,
		Timeline: Timeline{Start: t0, Cut: t0.Add(10 * time.Second), CutDone: t0.Add(10*time.Second + time.Millisecond),
			Heal: t0.Add(20 * time.Second), HealDone: t0.Add(20*time.Second + time.Millisecond), End: t0.Add(30 * time.Second)}}
	for _, st := range states {
		in.States = append(in.States, *st)
	}
	return in
}

func pairDelay(from, to string) time.Duration {
	return map[string]time.Duration{"tokyofrankfurt": 120, "frankfurttokyo": 120, "tokyosaopaulo": 140, "saopaulotokyo": 140,
		"frankfurtsaopaulo": 100, "saopaulofrankfurt": 100}[from+to] * time.Millisecond
}

// honest delivers every message the relay would: after the one-way delay
// and 5 ms of the peers' own, nothing across the cut while it holds, and
// what was sent during the cut not at all (gossip gave up on it).
func honest(from, to string, sent time.Time) *time.Duration {
	if (from == "saopaulo") != (to == "saopaulo") && !sent.Before(t0.Add(10*time.Second)) && sent.Before(t0.Add(20*time.Second)) {
		return nil
	}
	l := pairDelay(from, to) + 5*time.Millisecond
	return &l
}

func TestComputeAnHonestRun(t *testing.T) {
	t.Parallel()
	res, err := Compute(synthetic(honest))
	require.NoError(t, err)
	assert.Empty(t, res.Problems)
	require.Len(t, res.Pairs, 6)
	for _, p := range res.Pairs {
		assert.InDelta(t, p.OneWayMs+5, p.P50Ms, 0.01, "%s to %s", p.From, p.To)
		assert.InDelta(t, p.OneWayMs+5, p.P99Ms, 0.01, "%s to %s", p.From, p.To)
		assert.GreaterOrEqual(t, p.MinMs, p.OneWayMs)
	}
	ratio := map[string]float64{}
	for _, d := range res.Delivery {
		ratio[d.Site+"/"+string(d.Phase)] = d.Ratio
		assert.Positive(t, d.Expected, "%s %s", d.Site, d.Phase)
	}
	assert.Equal(t, map[string]float64{
		"frankfurt/before": 1, "frankfurt/during": 0.5, "frankfurt/after": 1,
		"saopaulo/before": 1, "saopaulo/during": 0, "saopaulo/after": 1,
		"tokyo/before": 1, "tokyo/during": 0.5, "tokyo/after": 1,
	}, ratio)
	assert.Equal(t, []Window{{Before, 0, 8000}, {During, 10001, 18000}, {After, 20001, 28000}}, res.Phases)
	assert.Zero(t, res.CrossedDuringCut)
	assert.Zero(t, res.Late)
	assert.Len(t, res.Peers, 3)
}

// The checks fail when what they guard is broken: each broken run yields
// the problem that names it.
func TestComputeFindsWhatIsBroken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		deliver func(from, to string, sent time.Time) *time.Duration
		want    string
	}{
		{"faster than light", func(from, to string, sent time.Time) *time.Duration {
			l := honest(from, to, sent)
			if l != nil && from == "tokyo" && to == "frankfurt" && sent.Equal(t0.Add(5*time.Second)) {
				*l = 119 * time.Millisecond
			}
			return l
		}, "tokyo to frankfurt: a message arrived in 119.00 ms, below the emulated one-way delay of 120.00 ms"},
		{"a leaky cut", func(from, to string, sent time.Time) *time.Duration {
			l := pairDelay(from, to)
			return &l
		}, "site saopaulo received 158 messages from the other sites during its partition"},
		{"late through the cut", func(from, to string, sent time.Time) *time.Duration {
			l := honest(from, to, sent)
			if l == nil && sent.Before(t0.Add(15*time.Second)) { // held until 15 s, arriving during the cut but late
				d := t0.Add(15 * time.Second).Sub(sent)
				l = &d
			}
			return l
		}, "messages crossed between site saopaulo and the others while it was cut off"},
		{"never back", func(from, to string, sent time.Time) *time.Duration {
			if to == "saopaulo" && !sent.Before(t0.Add(10*time.Second)) {
				return nil
			}
			return honest(from, to, sent)
		}, "site saopaulo received nothing in time from the other sites after the partition"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := Compute(synthetic(tc.deliver))
			require.NoError(t, err)
			require.NotEmpty(t, res.Problems)
			assert.Contains(t, res.Problems[len(res.Problems)-1]+"\n"+res.Problems[0], tc.want)
		})
	}
}

func TestComputeRefusesBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(*Input)
		want   string
	}{
		{"no deadline", func(in *Input) { in.Deadline = 0 }, "deadline 0s: must be positive"},
		{"unknown partitioned site", func(in *Input) { in.Partitioned = "mars" }, `partitioned site "mars": no peer runs there`},
		{"unknown peer", func(in *Input) { in.States[0].Node = "xx9" }, `peer "xx9": not a peer of the run`},
		{"twice", func(in *Input) { in.States = append(in.States, in.States[0]) }, "reported twice"},
		{"unknown sender", func(in *Input) { in.States[0].Received[0].From = "ghost" }, `received from "ghost", not a peer of the run`},
		{"no delay", func(in *Input) { delete(in.OneWay, [2]string{"tokyo", "saopaulo"}) }, "sites tokyo to saopaulo: one-way delay missing or negative"},
		{"negative floor", func(in *Input) { in.Floor = map[[2]string]time.Duration{{"tokyo", "frankfurt"}: -1} }, "sites tokyo to frankfurt: floor missing or negative"},
		{"heal before cut", func(in *Input) { in.Timeline.Heal = in.Timeline.Cut.Add(-time.Second) }, "want start <= cut <= cut done <= heal"},
		{"heal without cut", func(in *Input) { in.Timeline.Cut, in.Timeline.CutDone = time.Time{}, time.Time{} }, "timeline [start 0s cut - cut done - heal 20s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := synthetic(honest)
			tc.change(&in)
			_, err := Compute(in)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// A run cut short (Ctrl-C during the partition) is computed for the
// phases it reached; a phase too short for the deadline is noted, not
// counted.
func TestComputeARunCutShort(t *testing.T) {
	t.Parallel()
	in := synthetic(honest)
	in.Timeline.Heal, in.Timeline.HealDone, in.Timeline.End = time.Time{}, time.Time{}, t0.Add(15*time.Second)
	res, err := Compute(in)
	require.NoError(t, err)
	assert.Empty(t, res.Problems)
	assert.Equal(t, []string{"phase after: not reached"}, res.Notes)
	assert.Equal(t, []Window{{Before, 0, 8000}, {During, 10001, 13000}}, res.Phases)
	assert.Len(t, res.Delivery, 6, "three sites, two phases")

	in.Timeline.End = t0.Add(11 * time.Second)
	res, err = Compute(in)
	require.NoError(t, err)
	assert.Equal(t, []string{"phase during: 999ms long, not longer than the deadline 2s: not counted", "phase after: not reached"}, res.Notes)
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	xs := make([]float64, 100)
	for i := range xs {
		xs[i] = float64(100 - i)
	}
	assert.Equal(t, 50.0, percentile(xs, 50))
	assert.Equal(t, 99.0, percentile(xs, 99))
	assert.Equal(t, 7.0, percentile([]float64{7}, 99))
}

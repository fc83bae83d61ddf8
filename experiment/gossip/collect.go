package gossip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/planetstage/planetstage/experiment"
	"github.com/planetstage/planetstage/internal/atomicfile"
	"github.com/planetstage/planetstage/remote"
)

// collector fetches the peers' states. It asks each peer's node over the
// testbed's own access (SSH; in the lab not through the WAN relay), so a
// partitioned site is still read, and keeps the last state each peer gave,
// so that one that does not answer once loses nothing.
type collector struct {
	tb    experiment.Testbed
	peers []peer

	mu   sync.Mutex
	last map[string]PeerState
}

// fetch asks one peer for its state, from its own node.
func (c *collector) fetch(ctx context.Context, p peer) (PeerState, error) {
	r, err := c.tb.Dial(ctx, p.node)
	if err != nil {
		return PeerState{}, err
	}
	out, err := remote.Output(ctx, r, fmt.Sprintf("curl -sf --max-time 20 http://%s:%d/state", p.addr, HTTPPort))
	if err != nil {
		return PeerState{}, fmt.Errorf("peer %s: %w", p.node, err)
	}
	var st PeerState
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return PeerState{}, fmt.Errorf("peer %s: its state: %w", p.node, err)
	}
	if st.Node != p.node {
		return PeerState{}, fmt.Errorf("peer %s: answers as %q", p.node, st.Node)
	}
	return st, nil
}

// collect fetches every peer's state at once and returns the latest of
// each peer that ever answered, sorted by node, with the errors of this
// round.
func (c *collector) collect(ctx context.Context) ([]PeerState, error) {
	errs := make([]error, len(c.peers))
	var wg sync.WaitGroup
	for i, p := range c.peers {
		wg.Go(func() {
			st, err := c.fetch(ctx, p)
			if err != nil {
				errs[i] = err
				return
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.last == nil {
				c.last = map[string]PeerState{}
			}
			c.last[p.node] = st
		})
	}
	wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	states := make([]PeerState, 0, len(c.last))
	for _, n := range slices.Sorted(maps.Keys(c.last)) {
		states = append(states, c.last[n])
	}
	return states, errors.Join(errs...)
}

// waitMesh waits until every peer has received a message from every
// other, or timeout; the error names who has not heard whom.
func (c *collector) waitMesh(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var missing []string
	var lastErr error
	for {
		states, err := c.collect(ctx)
		lastErr = err
		missing = deaf(c.peers, states)
		if len(missing) == 0 && err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gossip: after %v the peers still do not all hear each other: %s%s", timeout,
				strings.Join(missing, "; "), errSuffix(lastErr))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return " (last error: " + err.Error() + ")"
}

// deaf lists, per peer, the peers it has not yet received from.
func deaf(peers []peer, states []PeerState) []string {
	heard := map[string]map[string]bool{}
	for _, st := range states {
		heard[st.Node] = map[string]bool{}
		for _, r := range st.Received {
			heard[st.Node][r.From] = true
		}
	}
	var out []string
	for _, p := range peers {
		var not []string
		for _, q := range peers {
			if q.node != p.node && !heard[p.node][q.node] {
				not = append(not, q.node)
			}
		}
		if _, ok := heard[p.node]; !ok {
			out = append(out, p.node+" has not answered")
		} else if len(not) > 0 {
			out = append(out, p.node+" has not heard "+strings.Join(not, ", "))
		}
	}
	return out
}

// receivedPerSecond is, per site, how many messages from the other sites
// its peers received per second in (from, to]: the run's timeline shows
// the partition as a site's rate falling to zero.
func receivedPerSecond(states []PeerState, siteOf map[string]string, from, to time.Time) map[string]float64 {
	out := map[string]float64{}
	secs := to.Sub(from).Seconds()
	if secs <= 0 {
		return out
	}
	for _, st := range states {
		site := siteOf[st.Node]
		name := "received/s " + site
		n := 0
		for _, r := range st.Received {
			if siteOf[r.From] != site && r.RecvNs > from.UnixNano() && r.RecvNs <= to.UnixNano() {
				n++
			}
		}
		out[name] += float64(n) / secs
	}
	return out
}

// writeResults writes results.json and peers.json into the folder dir
// and hands the tables to the run's report (once there is a run).
func writeResults(dir string, run *experiment.Run, res Results, states []PeerState) error {
	err := errors.Join(writeFile(dir, ResultsFile, res), writeFile(dir, PeersFile, states))
	if run != nil {
		err = errors.Join(err, run.SetSections(Sections(res)...))
	}
	return err
}

func writeFile(dir, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, name), append(b, '\n'), 0o644)
}

// Package labtest gives a Go test a running lab of its topology in one
// call: brought up, every layer applied, carrying traffic, and removed
// when the test ends.
//
// A user's test of their own topology, end to end:
//
//	func TestMyTestbed(t *testing.T) {
//		topo, err := topology.Load("testdata/testbed.yaml")
//		require.NoError(t, err)
//		l := labtest.Up(t, topo, lab.Options{})        // skips without Docker
//		m, err := l.Matrix(t.Context())                 // ping, every pair
//		require.NoError(t, err)
//		assert.Empty(t, m.Unreachable(), m.Table())     // Up waited for the tunnels
//		out, err := remote.Output(t.Context(), mustDial(t, l, "node01"), "ip route")
//		…
//	}
//
// Up applies every layer but the cluster (the cluster too with
// lab.Options.Kubernetes, which builds the Kubernetes node image once per
// machine), so the test starts where `stage apply --lab` ends: tunnels
// probed, every machine reaching every other.
//
// Tests may run in parallel, in one package or in many (go test ./...
// runs packages at once): each lab gets its own name, derived from the
// test's, and its own state directory. Two labs whose addresses overlap
// cannot share the Docker engine (their networks would collide), so Up
// makes such tests take turns, through a lock per address range on this
// machine, instead of failing; labs on distinct ranges run at once.
//
// The lab drives Docker through its Engine API (dockertest's Pool, as
// package lab does). Routers of kind vyos run in the VyOS stand-in (not
// VyOS), or in a real VyOS image given with lab.Options.VyOSImage or
// PLANETSTAGE_VYOS_IMAGE; lab.Lab.Notes and lab.Lab.Routers say which.
package labtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ory/dockertest/v3"

	"github.com/planetstage/planetstage/internal/flock"
	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/topology"
)

// DefaultTimeout bounds Up when the test has no deadline of its own: long
// enough for a first Kubernetes node image build on two cores.
const DefaultTimeout = 45 * time.Minute

// Up brings t up in a lab for the test and applies its layers (see the
// package doc), and registers the lab's removal with tb.Cleanup. It skips
// the test, saying why, when no Docker engine answers, and fails it when
// the lab cannot be brought up. t is not changed: the lab runs a copy
// named after the test; Lab.Topology is that copy as the lab runs it.
// o.StateDir defaults to a directory of the test's (tb.TempDir).
func Up(tb testing.TB, t *topology.Topology, o lab.Options) *lab.Lab {
	tb.Helper()
	if err := pingDocker(); err != nil {
		tb.Skipf("labtest: no Docker engine answers: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	if d, ok := tb.(interface{ Deadline() (time.Time, bool) }); ok {
		if deadline, ok := d.Deadline(); ok {
			cancel()
			ctx, cancel = context.WithDeadline(context.Background(), deadline)
		}
	}
	defer cancel()

	c := t.Clone()
	c.Name = LabName(tb.Name(), t.Name)
	release, err := lockRanges(ctx, Ranges(c))
	if err != nil {
		tb.Fatalf("labtest: %v", err)
	}
	if o.StateDir == "" {
		o.StateDir = tb.TempDir()
	}
	l, err := lab.Up(ctx, c, o)
	if err != nil {
		release()
		tb.Fatalf("labtest: %v", err)
	}
	tb.Cleanup(func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer dcancel()
		if err := l.Down(dctx); err != nil {
			tb.Errorf("labtest: %v", err)
		}
		release()
	})
	if _, err := l.Apply(ctx, lab.ApplyOptions{}); err != nil {
		tb.Fatalf("labtest: apply: %v", err)
	}
	return l
}

// LabName is the name of the lab Up makes for the test called test of a
// topology called topo: the topology's name and a hash of the test's, so
// that the same topology in two tests (or packages) gives two labs. It
// stays a valid lab name: at most 32 characters.
func LabName(test, topo string) string {
	sum := sha256.Sum256([]byte(test))
	suffix := "-" + hex.EncodeToString(sum[:])[:8]
	if max := 32 - len(suffix); len(topo) > max { // the lab's own limit (lab.Spec)
		topo = strings.TrimRight(topo[:max], "-")
	}
	return topo + suffix
}

// Ranges are the address ranges a lab of t occupies on this machine: the
// underlay and every site's prefix, masked, sorted.
func Ranges(t *topology.Topology) []netip.Prefix {
	ranges := []netip.Prefix{t.Underlay.Prefix.Masked()}
	for _, s := range t.Sites {
		ranges = append(ranges, s.Prefix.Masked())
	}
	slices.SortFunc(ranges, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return slices.Compact(ranges)
}

// lockRanges takes a machine-wide lock for each /16 that ranges touch, in
// order (so two callers never wait for each other crosswise), and returns
// the function that releases them. Overlapping ranges always share a /16
// when both are at least that long; a range wider than /16 locks its
// first /16 only, which is what the lab's own prefixes are.
func lockRanges(ctx context.Context, ranges []netip.Prefix) (func(), error) {
	var keys []string
	for _, r := range ranges {
		bits := min(r.Bits(), 16)
		k := netip.PrefixFrom(r.Addr(), bits).Masked().String()
		keys = append(keys, strings.NewReplacer(".", "-", "/", "_", ":", "-").Replace(k))
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	var held []func()
	release := func() {
		for _, unlock := range held {
			unlock()
		}
		held = nil
	}
	for _, k := range keys {
		// 0666: labs of other users on this machine take turns too.
		unlock, err := flock.Lock(ctx, filepath.Join(os.TempDir(), "planetstage-labtest-"+k+".lock"), 0o666)
		if err != nil {
			release()
			return nil, fmt.Errorf("waiting for another lab on the same addresses: %w", err)
		}
		held = append(held, unlock)
	}
	return release, nil
}

// pingDocker asks the Docker engine the lab will use whether it answers,
// the way the lab finds it (DOCKER_HOST, else the local socket).
func pingDocker() error {
	pool, err := dockertest.NewPool("")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return pool.Client.PingWithContext(ctx)
}

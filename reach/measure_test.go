package reach

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/remote"
)

// TestMeasureOnLoopback runs this machine's real ping between "machines"
// on loopback addresses (no packet leaves the machine); the third one's
// shell cannot run, and it is down or an error as Down says.
func TestMeasureOnLoopback(t *testing.T) {
	if _, err := exec.LookPath("ping"); err != nil {
		t.Skip("needs ping (iputils-ping)")
	}
	if err := exec.Command("ping", "-n", "-q", "-c", "1", "-W", "1", "127.0.0.2").Run(); err != nil {
		t.Skipf("this machine cannot ping its loopback: %v", err)
	}
	ctx := t.Context()
	targets := []Target{
		{Name: "a", Address: netip.MustParseAddr("127.0.0.1")},
		{Name: "b", Address: netip.MustParseAddr("127.0.0.2")},
		{Name: "c", Address: netip.MustParseAddr("127.0.0.3")},
	}
	errNoShell := errors.New("no shell on c")
	run := func(_ context.Context, name string) (remote.Runner, error) {
		if name == "c" {
			return nil, errNoShell
		}
		return &remote.Local{Name: name}, nil
	}
	m, err := Measure(ctx, targets, Options{Run: run, Down: func(_ context.Context, name string) (bool, error) { return name == "c", nil }})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c"}, m.Machines)
	require.Len(t, m.Pairs, 6)
	ab, ok := m.Pair("a", "b")
	require.True(t, ok)
	assert.True(t, ab.Reachable)
	assert.Positive(t, ab.RTT, "ping's average is parsed")
	ca, _ := m.Pair("c", "a")
	assert.False(t, ca.Reachable, "a machine that is down reaches nothing")
	bc, _ := m.Pair("b", "c")
	assert.True(t, bc.Reachable, "c's address answers: it is loopback")
	assert.Equal(t, "from\\to a    b    c\na      -    o    o\nb      o    -    o\nc      x    x    -\n", m.Table())

	// Without Down a source that cannot run is an error naming it, and
	// so is one that Down says is up.
	_, err = Measure(ctx, targets, Options{Run: run})
	assert.ErrorIs(t, err, errNoShell)
	assert.ErrorContains(t, err, "ping from c")
	_, err = Measure(ctx, targets, Options{Run: run, Down: func(context.Context, string) (bool, error) { return false, nil }})
	assert.ErrorContains(t, err, "ping from c")
}

// dropsFirst answers its first command as if no echo came back from any
// target, then runs commands on this machine: a source whose first round
// of pings lost every reply.
type dropsFirst struct {
	remote.Local
	calls int
}

func (d *dropsFirst) Run(ctx context.Context, cmd remote.Cmd) error {
	if d.calls++; d.calls == 1 && cmd.Stdout != nil {
		for _, a := range []string{"127.0.0.1", "127.0.0.2"} {
			fmt.Fprintf(cmd.Stdout, "%s 1 \n", a)
		}
		return nil
	}
	return d.Local.Run(ctx, cmd)
}

// TestMeasurePingsUnansweredPairsAgain: a pair whose replies were all lost
// once is pinged again, and counts as reachable when it answers then (a
// machine that stays down stays unreachable: TestMeasureOnLoopback).
func TestMeasurePingsUnansweredPairsAgain(t *testing.T) {
	if _, err := exec.LookPath("ping"); err != nil {
		t.Skip("needs ping (iputils-ping)")
	}
	if err := exec.Command("ping", "-n", "-q", "-c", "1", "-W", "1", "127.0.0.2").Run(); err != nil {
		t.Skipf("this machine cannot ping its loopback: %v", err)
	}
	targets := []Target{
		{Name: "a", Address: netip.MustParseAddr("127.0.0.1")},
		{Name: "b", Address: netip.MustParseAddr("127.0.0.2")},
	}
	lossy := &dropsFirst{}
	run := func(_ context.Context, name string) (remote.Runner, error) {
		if name == "a" {
			return lossy, nil
		}
		return &remote.Local{Name: name}, nil
	}
	m, err := Measure(t.Context(), targets, Options{Run: run})
	require.NoError(t, err)
	assert.Equal(t, 2, lossy.calls, "a's unanswered pair was pinged again")
	ab, _ := m.Pair("a", "b")
	assert.True(t, ab.Reachable, "it answered the second time")
	assert.NoError(t, m.CheckConnected())
}

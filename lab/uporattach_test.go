package lab

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUpOrAttach: the first call finds no lab and brings it up, the second
// finds it running and attaches without starting anything.
func TestUpOrAttach(t *testing.T) {
	t.Parallel()
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	topo := simTopology("labtest-uporattach")
	topo.Hypervisors, topo.Sites[0].Hypervisor = nil, ""
	renumber(topo, 33)
	require.NoError(t, topo.Validate())
	starts := 0
	opts := Options{StateDir: t.TempDir(), Progress: func(e Event) {
		if e.Phase == PhaseMachines && e.Done {
			starts++
		}
	}}

	_, err := Attach(ctx, topo, opts)
	require.ErrorIs(t, err, ErrNotUp)
	assert.ErrorContains(t, err, `lab "labtest-uporattach" is not up`)

	l, err := UpOrAttach(ctx, topo, opts)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, l.Down(context.Background())) })
	assert.Equal(t, 1, starts, "no lab: brought up")

	again, err := UpOrAttach(ctx, topo, opts)
	require.NoError(t, err)
	assert.Equal(t, 1, starts, "a running lab: attached, nothing started")
	assert.Equal(t, l.Machines(), again.Machines())
}

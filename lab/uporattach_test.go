package lab

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
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

	// A host added to the file joins the running lab: UpOrAttach starts
	// its container, and the apply that follows finds it answering.
	grown, err := topo.WithHost("b", topology.Host{Name: "node02", Address: netip.MustParseAddr("172.33.20.102"), Role: topology.RoleWorker})
	require.NoError(t, err)
	require.NoError(t, grown.Validate())
	third, err := UpOrAttach(ctx, grown, opts)
	require.NoError(t, err)
	assert.Equal(t, 1, starts, "attached, not brought up again")
	exists, err := third.containerExists(ctx, "node02")
	require.NoError(t, err)
	assert.True(t, exists, "the added host got its container")
	res, err := third.Apply(ctx, ApplyOptions{Layers: []string{layer.Machines}})
	require.NoError(t, err)
	for _, s := range res.Steps {
		if s.ID == topology.MachineUpID("node02") {
			assert.Contains(t, s.Reason, "answers over SSH")
		}
	}
	r, err := third.Dial(ctx, "node02")
	require.NoError(t, err)
	out, err := remote.Output(ctx, r, "hostname")
	require.NoError(t, err)
	assert.Equal(t, "node02", strings.TrimSpace(out), "reached over SSH with the host key the lab recorded")
	fourth, err := UpOrAttach(ctx, grown, opts)
	require.NoError(t, err)
	assert.Equal(t, third.Machines(), fourth.Machines(), "nothing more to start")
}

package plan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An offline plan runs no Inspect: every step is a create, in dependency
// order.
func TestOfflineRunsNothing(t *testing.T) {
	t.Parallel()
	a, b, c := &testStep{action: NoOp}, &testStep{action: NoOp}, &testStep{action: Update}
	g := graphOf(t, spec{id: "c", deps: []string{"b"}, step: c}, spec{id: "a", step: a}, spec{id: "b", deps: []string{"a"}, step: b})
	res, err := Offline(g)
	require.NoError(t, err)
	for _, s := range []*testStep{a, b, c} {
		assert.Zero(t, s.started.Load(), "no step may be inspected")
		assert.Zero(t, s.applied.Load())
	}
	var ids []string
	for _, s := range res.Steps {
		ids = append(ids, s.ID)
		assert.Equal(t, Create, s.Action)
		assert.Equal(t, OfflineReason, s.Reason)
	}
	assert.Equal(t, []string{"a", "b", "c"}, ids)
	assert.Equal(t, Summary{Created: 3}, res.Summary())
	assert.False(t, res.Applied)

	bad := graphOf(t, spec{id: "x", deps: []string{"missing"}, step: a})
	_, err = Offline(bad)
	assert.Error(t, err, "an invalid graph is refused, as by Walk")
}

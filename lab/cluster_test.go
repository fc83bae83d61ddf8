package lab

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/topology"
)

// AddNode on a running cluster is the main job's (go run ./examples/thesis,
// which CI runs with the node image); here only that bad input fails
// before anything is touched, and says which node.
func TestAddNodeRefusesAnUnknownSite(t *testing.T) {
	t.Parallel()
	l := &Lab{spec: Spec{Name: "addnode"}} // no containers: any action would fail differently
	h := topology.Host{Name: "node05", Address: netip.MustParseAddr("172.25.20.103"), Role: topology.RoleWorker}
	add, err := l.AddNode(t.Context(), simTopology("addnode"), "nowhere", h, ApplyOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "add node node05: ")
	assert.Contains(t, err.Error(), `"nowhere"`)
	assert.Equal(t, NodeAddition{Node: "node05", Site: "nowhere", Seconds: add.Seconds}, add, "not Ready, no walk")
}

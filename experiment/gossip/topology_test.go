package gossip

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/topology"
)

func TestTopology(t *testing.T) {
	t.Parallel()
	topo, err := Topology("planet")
	require.NoError(t, err)
	var sites []string
	for _, s := range topo.Sites {
		sites = append(sites, s.Name)
		assert.NotNil(t, s.Location, "site %s has latency", s.Name)
	}
	assert.Equal(t, []string{"tokyo", "frankfurt", "sao-paulo"}, sites)
	assert.Len(t, topo.HostsWithRole(topology.RoleWorker), 3, "one peer per site")
	o := Options{Dir: "x", Binary: []byte{1}}
	o.defaults()
	peers, err := o.plan(topo)
	require.NoError(t, err)
	assert.Len(t, peers, 3)
	assert.Equal(t, "sao-paulo", o.Partition, "the last site, which holds no control plane")

	_, err = Topology("atlantis")
	assert.ErrorContains(t, err, `geo preset "atlantis": unknown`)
}

func TestOptionsRefused(t *testing.T) {
	t.Parallel()
	topo, err := Topology("planet")
	require.NoError(t, err)
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Binary: []byte{1}}, "Dir: the results folder is missing"},
		{Options{Dir: "x", Binary: []byte{1}, During: 3 * time.Second}, "During 3s: must be longer than the deadline 5s"},
		{Options{Dir: "x", Binary: []byte{1}, Every: -time.Second}, "Every -1s: must not be negative"},
		{Options{Dir: "x", Binary: []byte{1}, Partition: "mars"}, `Partition "mars": no worker runs in that site (sites with workers: tokyo, frankfurt, sao-paulo)`},
	} {
		o := tc.o
		o.defaults()
		_, err := o.plan(topo)
		assert.ErrorContains(t, err, tc.want)
	}
	one := topo.Clone()
	one.Sites = one.Sites[:1]
	o := Options{Dir: "x", Binary: []byte{1}}
	o.defaults()
	_, err = o.plan(one)
	assert.ErrorContains(t, err, "workers in 1 site(s): a partition needs at least two")
}

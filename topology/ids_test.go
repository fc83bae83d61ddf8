package topology

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPathIDs(t *testing.T) {
	t.Parallel()
	top := loadThesis(t)
	assert.Equal(t, []string{"routers/vyos03", "routers/vyos01", "routers/tunnel/site-a/site-c"}, PathIDs(top, "node03", "master01"))
	assert.Empty(t, PathIDs(top, "master01", "lb"), "same site: no tunnel crossed")
	top.VPN.Mode, top.VPN.Hub = VPNHubSpoke, "site-a"
	assert.Equal(t, []string{"routers/vyos02", "routers/vyos01", "routers/vyos03", "routers/tunnel/site-a/site-b", "routers/tunnel/site-a/site-c"},
		PathIDs(top, "node01", "node04"), "spoke to spoke crosses the hub and both its tunnels")
	assert.Equal(t, []string{"routers/vyos02", "routers/vyos01", "routers/tunnel/site-a/site-b"}, PathIDs(top, "node01", "master01"), "spoke to hub")
}

func TestRegionalHubsAndPaths(t *testing.T) {
	t.Parallel()
	top := loadThesis(t)
	// site-a (Tokyo) and site-c (São Paulo) are hubs; site-b (Frankfurt)
	// names none, so it joins the nearer one by great circle: Tokyo is
	// about 9 400 km away, São Paulo about 9 800 km.
	for i, city := range []string{"Tokyo", "Frankfurt", "São Paulo"} {
		top.Sites[i].Location = &Location{City: city}
	}
	top.VPN.Mode, top.VPN.Hubs = VPNRegional, []string{"site-c", "site-a"}
	require.NoError(t, top.Validate())
	hubs, err := top.Hubs()
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"site-a": "site-a", "site-b": "site-a", "site-c": "site-c"}, hubs)
	assert.Equal(t, [][2]string{{"site-a", "site-c"}, {"site-a", "site-b"}}, top.TunnelPairs())
	assert.Equal(t, 2, top.TunnelCount())
	assert.Equal(t, []string{"site-b", "site-a", "site-c"}, top.SitePath("site-b", "site-c"))
	assert.Equal(t, []string{"routers/vyos02", "routers/vyos01", "routers/vyos03", "routers/tunnel/site-a/site-b", "routers/tunnel/site-a/site-c"},
		PathIDs(top, "node01", "node04"))

	// A spoke that names its hub keeps it, near or not.
	top.Sites[1].Hub = "site-c"
	hubs, err = top.Hubs()
	require.NoError(t, err)
	assert.Equal(t, "site-c", hubs["site-b"])
}

func TestRegionalRejectsBadHubs(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		edit func(*Topology)
		path string
		want string
	}{
		"no hubs":         {func(t *Topology) { t.VPN.Hubs = nil }, "vpn.hubs", "regional mode needs at least one hub"},
		"hub not a site":  {func(t *Topology) { t.VPN.Hubs = []string{"site-z"} }, "vpn.hubs[0]", `unknown site "site-z"`},
		"hub twice":       {func(t *Topology) { t.VPN.Hubs = []string{"site-a", "site-a"} }, "vpn.hubs[1]", "listed twice"},
		"spoke's hub":     {func(t *Topology) { t.Sites[1].Hub = "site-c" }, "sites[1].hub", `"site-c" is not a hub`},
		"hub's hub":       {func(t *Topology) { t.Sites[0].Hub = "site-a" }, "sites[0].hub", "is a hub itself"},
		"nowhere to go":   {func(t *Topology) { t.Sites[2].Location = nil }, "sites[2].hub", "no location to find the nearest"},
		"a hub in a mesh": {func(t *Topology) { t.VPN.Mode = VPNMesh }, "vpn.hubs", "only mode regional has hubs"},
		"a spoke's hub in hub-spoke": {func(t *Topology) {
			t.VPN.Mode, t.VPN.Hub, t.VPN.Hubs = VPNHubSpoke, "site-a", nil
			t.Sites[1].Hub = "site-a"
		}, "sites[1].hub", "only a site of a regional vpn names its hub"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			top := loadThesis(t)
			for i, city := range []string{"Tokyo", "Frankfurt", "São Paulo"} {
				top.Sites[i].Location = &Location{City: city}
			}
			top.VPN.Mode, top.VPN.Hubs = VPNRegional, []string{"site-a"}
			c.edit(top)
			err := top.Validate()
			require.Error(t, err)
			var problems Problems
			require.ErrorAs(t, err, &problems)
			found := false
			for _, p := range problems {
				if p.Path == c.path && strings.Contains(p.Message, c.want) {
					found = true
				}
			}
			assert.True(t, found, "want %s: %s in %v", c.path, c.want, err)
		})
	}
}

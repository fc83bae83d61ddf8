package topology

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPathIDs(t *testing.T) {
	t.Parallel()
	top := loadThesis(t)
	assert.Equal(t, []string{"routers/vyos03", "routers/vyos01", "routers/tunnel/site-a/site-c"}, PathIDs(top, "node03", "master01"))
	assert.Empty(t, PathIDs(top, "master01", "lb"), "same site: no tunnel crossed")
	top.VPN.Mode, top.VPN.Hub = VPNHubSpoke, "site-a"
	assert.Equal(t, []string{"routers/vyos02", "routers/vyos03", "routers/vyos01", "routers/tunnel/site-a/site-b", "routers/tunnel/site-a/site-c"},
		PathIDs(top, "node01", "node04"), "spoke to spoke crosses the hub and both its tunnels")
	assert.Equal(t, []string{"routers/vyos02", "routers/vyos01", "routers/tunnel/site-a/site-b"}, PathIDs(top, "node01", "master01"), "spoke to hub")
}

package topology

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A clone's WireGuard settings are its own.
func TestCloneCopiesWireGuard(t *testing.T) {
	t.Parallel()
	top := loadThesis(t)
	top.VPN.Type, top.VPN.Auth = VPNTypeWireGuard, ""
	top.VPN.WireGuard = &WireGuardVPN{Keepalive: 10, Endpoints: map[string]string{"vyos02": "203.0.113.5"}}
	c := top.Clone()
	c.VPN.WireGuard.Keepalive = 20
	c.VPN.WireGuard.Endpoints["vyos02"] = "203.0.113.6"
	assert.Equal(t, 10, top.VPN.WireGuard.Keepalive)
	assert.Equal(t, "203.0.113.5", top.VPN.WireGuard.Endpoints["vyos02"])
	assert.NoError(t, top.Validate())
}

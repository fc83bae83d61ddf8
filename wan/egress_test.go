package wan

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEgressFor(t *testing.T) {
	t.Parallel()
	matrix := []Entry{
		{Pair: NewPair("site-a", "site-b"), Link: Link{RTT: 141 * time.Millisecond, LossPct: 0.5}},
		{Pair: NewPair("site-a", "site-c"), Link: Link{RTT: 278 * time.Millisecond}},
	}
	tunnels := []TunnelIface{
		{Interface: "vtun0", Sites: [2]string{"site-b", "site-a"}},
		{Interface: "vtun1", Sites: [2]string{"site-a", "site-c"}},
		{Interface: "vtun2", Sites: [2]string{"site-b", "site-c"}}, // not in the matrix
	}
	a, err := EgressFor("site-a", tunnels, matrix)
	require.NoError(t, err)
	assert.Equal(t, []Egress{
		{Interface: "vtun0", Policy: "WAN-site-b", Shape: Shape{Delay: 70 * time.Millisecond, LossPct: 0.5}},
		{Interface: "vtun1", Policy: "WAN-site-c", Shape: Shape{Delay: 139 * time.Millisecond}},
	}, a)
	b, err := EgressFor("site-b", tunnels, matrix)
	require.NoError(t, err)
	assert.Equal(t, []Egress{
		{Interface: "vtun0", Policy: "WAN-site-a", Shape: Shape{Delay: 71 * time.Millisecond, LossPct: 0.5}},
	}, b, "the two halves add up to the RTT")

	// What a router layer then renders for site-a on VyOS 1.4.
	s, err := VyOSNetem("1.4", a)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"set qos policy network-emulator WAN-site-b delay 70",
		"set qos policy network-emulator WAN-site-b loss 1",
		"set qos interface vtun0 egress WAN-site-b",
		"set qos policy network-emulator WAN-site-c delay 139",
		"set qos interface vtun1 egress WAN-site-c",
	}, s.Lines)
	assert.Equal(t, []string{"vtun0: loss 0.5% rounded to 1%: VyOS 1.4+ takes whole percent"}, s.Notes)

	_, err = EgressFor("site-a", []TunnelIface{{Sites: [2]string{"site-a", "site-b"}}}, matrix)
	assert.ErrorContains(t, err, "no interface name")
	none, err := EgressFor("site-z", tunnels, matrix)
	require.NoError(t, err)
	assert.Empty(t, none)
}

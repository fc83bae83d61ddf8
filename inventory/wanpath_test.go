package inventory

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/planetstage/planetstage/wan"
)

func wanPath() wan.PathConfig {
	link := wan.Link{RTT: 150*time.Millisecond + 1500*time.Nanosecond}
	return wan.PathConfig{Name: "site-a<->site-b",
		ListenA: netip.MustParseAddrPort("10.4.255.254:40000"), ListenB: netip.MustParseAddrPort("10.4.255.254:40001"),
		AtoB: link.OneWay(), BtoA: link.OneWay()}
}

func TestPathOf(t *testing.T) {
	t.Parallel()
	p := PathOf(wanPath())
	assert.Equal(t, RelayPath{Name: "site-a<->site-b", ListenA: netip.MustParseAddrPort("10.4.255.254:40000"),
		ListenB: netip.MustParseAddrPort("10.4.255.254:40001"), RTTMs: 150.002}, p, "both directions, to the microsecond")
}

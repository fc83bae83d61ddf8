package layer

import (
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVMMACsUnique: a thousand sites of ten hosts draw some addresses
// twice from the hash (the plan used to refuse them, "rename one"); every
// card still gets one of its own, in VMware's range, the same on every
// run, and a card whose first draw is free keeps the address it had
// before collisions were resolved.
func TestVMMACsUnique(t *testing.T) {
	t.Parallel()
	top := generated(1000, 10)
	macs := newVMMACs(top)
	again := newVMMACs(top)
	assert.Equal(t, macs, again, "the same on every run")

	first := map[string]int{} // each card's first draw, counted
	for k := range macs {
		h := sha256.Sum256([]byte(top.Name + "/" + k))
		first[fmt.Sprintf("00:50:56:%02x:%02x:%02x", h[0]&0x3f, h[1], h[2])]++
	}
	collisions := 0
	for _, n := range first {
		collisions += n - 1
	}
	require.Positive(t, collisions, "the test needs a topology whose first draws collide")

	seen := map[string]string{}
	kept := 0
	for k, mac := range macs {
		assert.Regexp(t, `^00:50:56:[0-3][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$`, mac)
		if other, dup := seen[mac]; dup {
			t.Fatalf("cards %s and %s share %s", other, k, mac)
		}
		seen[mac] = k
		h := sha256.Sum256([]byte(top.Name + "/" + k))
		if mac == fmt.Sprintf("00:50:56:%02x:%02x:%02x", h[0]&0x3f, h[1], h[2]) {
			kept++
		}
	}
	assert.Equal(t, len(macs)-collisions, kept, "only the cards that lost a draw moved")
	t.Logf("%d cards, %d first draws taken twice", len(macs), collisions)
}

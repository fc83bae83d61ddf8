package wan

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckSites(t *testing.T) {
	t.Parallel()
	near := NewSiteResult("tokyo", "frankfurt", 140_000_000, 146_000_000)   // +4.29 %
	far := NewSiteResult("frankfurt", "sao-paulo", 100_000_000, 89_000_000) // -11 %
	assert.NoError(t, CheckSites([]SiteResult{near}, 5))
	assert.NoError(t, CheckSites(nil, 5))
	err := CheckSites([]SiteResult{near, far}, 5)
	assert.EqualError(t, err, "frankfurt-sao-paulo measured 89.00 ms, -11.00 % off the target 100.00 ms (allowed: 5 %)")
	assert.Error(t, CheckSites([]SiteResult{near}, 4), "a tighter tolerance catches the nearer one too")
}

func TestWriteSites(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	require.NoError(t, WriteSites(&b, []SiteResult{NewSiteResult("site-b", "site-c", 147_430_000, 148_000_000)},
		map[string]string{"site-b": "Frankfurt", "site-c": "São Paulo"}))
	assert.Equal(t, "  from                     to                       target ms measured ms  error %\n"+
		"  site-b (Frankfurt)       site-c (São Paulo)          147.43      148.00    +0.39\n", b.String())
	b.Reset()
	require.NoError(t, WriteSites(&b, []SiteResult{NewSiteResult("a", "b", 0, 1_000_000)}, nil))
	assert.Contains(t, b.String(), "  a                        b                             0.00        1.00    +0.00\n", "no label, no parentheses")
}

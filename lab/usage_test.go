package lab

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStats(t *testing.T) {
	t.Parallel()
	got, err := parseStats("thesis-master01 1.5GiB / 23.4GiB 12.50%\nthesis-lb 26.81MiB / 23.4GiB 0.00%\n\nthesis-vyos01 512KiB / 23.4GiB 0.3%\n", "thesis-")
	require.NoError(t, err)
	assert.Equal(t, map[string]Usage{
		"master01": {MemoryMiB: 1536, CPUPct: 12.5},
		"lb":       {MemoryMiB: 26.81, CPUPct: 0},
		"vyos01":   {MemoryMiB: 0.5, CPUPct: 0.3},
	}, got)
	_, err = parseStats("thesis-lb 26.81XY / 23.4GiB 0.00%\n", "thesis-")
	assert.ErrorContains(t, err, `thesis-lb: size "26.81XY": no unit`)
	_, err = parseStats("thesis-lb --\n", "thesis-")
	assert.ErrorContains(t, err, "unexpected line")
}

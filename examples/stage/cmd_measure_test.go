package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The measuring itself needs running routers (topology.MeasureWAN is
// tested with fakes, package wan against real ping, iperf3 and OpenVPN);
// here only what fails before anything is dialled.
func TestMeasureCommandRefusesBadInput(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run(t.Context(), []string{"measure"}, &out, &errOut), "no -f")
	assert.Contains(t, errOut.String(), "-f FILE is required")

	errOut.Reset()
	code := run(t.Context(), []string{"measure", "-f", "../../topology/testdata/thesis.yaml", "-state", t.TempDir(), "--geo", "mars"}, &out, &errOut)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), `geo preset "mars": unknown; presets are atlantic, europe, pacific, planet`)
	assert.Empty(t, out.String(), "nothing measured")
}

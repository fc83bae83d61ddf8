package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/wan"
)

func TestGeoPlacesTheRelay(t *testing.T) {
	t.Parallel()
	th := Thesis()
	relay, err := lab.RelayFor(th)
	require.NoError(t, err)
	assert.Nil(t, relay, "the thesis has no latency of its own, so the lab places no relay")

	require.NoError(t, th.PlaceSites("planet"))
	relay, err = lab.RelayFor(th)
	require.NoError(t, err)
	require.NotNil(t, relay, "with --geo the lab places the relay")
	assert.Len(t, relay.Paths, 3, "one path per tunnel of the mesh")
	assert.Len(t, relay.Remotes, 6)
}

func TestGeoRefusesUnknownPreset(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"--geo", "mars"}, &out, &errOut)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut.String(), `geo preset "mars": unknown; presets are `+strings.Join(wan.GeoPresets(), ", "))
	assert.Empty(t, out.String(), "nothing ran")
}

func TestPrintGeo(t *testing.T) {
	t.Parallel()
	th := Thesis()
	require.NoError(t, th.PlaceSites("planet"))
	var b bytes.Buffer
	printGeo(&b, th, []wan.SiteResult{wan.NewSiteResult("site-b", "site-c", 147_430_000, 148_000_000)})
	assert.Equal(t, "  from                     to                       target ms measured ms  error %\n"+
		"  site-b (Frankfurt)       site-c (São Paulo)          147.43      148.00    +0.39\n", b.String())
}

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

package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestThesisIsTheDesignsTable(t *testing.T) {
	t.Parallel()
	th := Thesis()
	require.NoError(t, th.Validate())
	assert.Len(t, th.Machines(), 11, "3 routers and 8 machines, as in the thesis")
	assert.Len(t, th.TunnelPairs(), 3, "a mesh of three sites")
}

package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/topology"
)

func TestThesisYAMLMatchesGo(t *testing.T) {
	t.Parallel()
	fromFile, err := topology.Load("thesis.yaml")
	require.NoError(t, err)
	fromGo := Thesis()
	require.NoError(t, fromGo.Validate())
	assert.Equal(t, fromGo, fromFile)
	assert.Len(t, fromGo.Machines(), 11, "3 routers and 8 machines, as in the thesis")
}

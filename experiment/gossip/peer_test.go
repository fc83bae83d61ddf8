package gossip

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWritePeerSource: the built-in peer comes out as a module of its own
// that go build can take (the heavy lab test builds and runs it): its
// main.go without the constraint that keeps libp2p out of planetstage.
func TestWritePeerSource(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "peer")
	require.NoError(t, WritePeerSource(dir))
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(mod), "module github.com/planetstage/planetstage/experiment/gossip/peer\n"), "%.80s", mod)
	assert.Contains(t, string(mod), "github.com/libp2p/go-libp2p-pubsub v0.19.0")
	sum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	require.NoError(t, err)
	assert.Contains(t, string(sum), "github.com/libp2p/go-libp2p v0.52.0 h1:")
	main, err := os.ReadFile(filepath.Join(dir, "main.go"))
	require.NoError(t, err)
	assert.NotContains(t, string(main), "//go:build")
	assert.Contains(t, string(main), "package main")
	embedded, err := peerSource.ReadFile("peer/main.go")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(embedded), peerConstraint), "planetstage's own builds skip it")
}

package gossip

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The archive is docker save's layout (what ctr images import reads): a
// manifest naming the config and the one layer, which holds the binary as
// /peer, executable; the tag follows the binary.
func TestImageArchive(t *testing.T) {
	t.Parallel()
	bin := []byte("\x7fELF not really")
	ref, archive, err := Image(bin)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(ref, ImageRepository+":"))
	files := map[string][]byte{}
	r := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		files[h.Name], err = io.ReadAll(r)
		require.NoError(t, err)
	}
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	require.NoError(t, json.Unmarshal(files["manifest.json"], &manifest))
	require.Len(t, manifest, 1)
	assert.Equal(t, []string{ref}, manifest[0].RepoTags)
	require.Contains(t, files, manifest[0].Config)
	var config struct {
		Config struct{ Entrypoint []string }
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	require.NoError(t, json.Unmarshal(files[manifest[0].Config], &config))
	assert.Equal(t, []string{"/peer"}, config.Config.Entrypoint)
	require.Len(t, manifest[0].Layers, 1)
	assert.Equal(t, "sha256:"+strings.TrimSuffix(manifest[0].Layers[0], "/layer.tar"), config.RootFS.DiffIDs[0])
	layer := tar.NewReader(bytes.NewReader(files[manifest[0].Layers[0]]))
	h, err := layer.Next()
	require.NoError(t, err)
	assert.Equal(t, "peer", h.Name)
	assert.Equal(t, int64(0o755), h.Mode)
	got, err := io.ReadAll(layer)
	require.NoError(t, err)
	assert.Equal(t, bin, got)

	other, _, err := Image([]byte("another peer"))
	require.NoError(t, err)
	assert.NotEqual(t, ref, other, "a changed peer is a new image")
	_, _, err = Image(nil)
	assert.ErrorContains(t, err, "the peer binary is empty")
}

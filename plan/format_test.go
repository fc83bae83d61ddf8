package plan

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriter(t *testing.T) {
	t.Parallel()
	r := sampleResult()
	for format, direct := range map[string]func(*Result, *bytes.Buffer) error{
		"text":    func(r *Result, b *bytes.Buffer) error { return r.WriteText(b) },
		"json":    func(r *Result, b *bytes.Buffer) error { return r.WriteJSON(b) },
		"dot":     func(r *Result, b *bytes.Buffer) error { return r.WriteDOT(b) },
		"mermaid": func(r *Result, b *bytes.Buffer) error { return r.WriteMermaid(b) },
	} {
		write, err := Writer(format)
		require.NoError(t, err, format)
		var got, want bytes.Buffer
		require.NoError(t, write(r, &got))
		require.NoError(t, direct(r, &want))
		assert.Equal(t, want.String(), got.String(), format)
	}
	_, err := Writer("yaml")
	assert.EqualError(t, err, `unknown format "yaml"; use text, json, dot, mermaid`)
}

func TestWriteTimingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "timing.json")
	require.NoError(t, os.WriteFile(path, []byte("an older, longer report that must not survive"), 0o600))
	require.NoError(t, sampleResult().WriteTimingFile(path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var got TimingReport
	require.NoError(t, json.Unmarshal(data, &got))
	assert.Len(t, got.Steps, 5)
	assert.Equal(t, "esxi/pg/site-c", got.Steps[0].Step)
	assert.InDelta(t, 1.2, got.TotalSeconds, 1e-9)
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), info.Mode().Perm())

	assert.Error(t, sampleResult().WriteTimingFile(filepath.Join(t.TempDir(), "missing", "timing.json")), "the directory must exist")
}

package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBatch: several commands in one round trip, each answer exactly what
// its command printed (with or without a final newline, empty, or after a
// failing command), on this machine through a real shell.
func TestBatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "a b.conf")
	require.NoError(t, os.WriteFile(conf, []byte("key = value\n"), 0o600))
	rec := &countingRunner{Runner: &Local{}}
	got, err := Batch(t.Context(), rec, []Query{
		{Name: "lines", Command: "printf 'one\\ntwo\\n'"},
		{Name: "no newline", Command: "printf abc"},
		{Name: "empty", Command: "true"},
		{Name: "fails", Command: "cat /nonexistent; echo after"},
		{Name: "sums", Command: SumFilesCommand([]string{conf, filepath.Join(dir, "missing")})},
	})
	require.NoError(t, err)
	assert.Equal(t, 1, rec.runs, "one round trip")
	assert.Equal(t, "one\ntwo\n", got["lines"])
	assert.Equal(t, "abc", got["no newline"])
	assert.Equal(t, "", got["empty"])
	assert.Equal(t, "after\n", got["fails"], "standard error is not an answer")
	sums, err := ParseSums(got["sums"])
	require.NoError(t, err)
	assert.True(t, sums.Holds(conf, []byte("key = value\n")))
	assert.False(t, sums.Holds(conf, []byte("key = other\n")))
	assert.False(t, sums.Holds(filepath.Join(dir, "missing"), nil), "a missing file holds nothing, not even nothing")

	_, err = Batch(t.Context(), &Local{}, []Query{{Name: "quits", Command: "exit 0"}})
	assert.ErrorContains(t, err, "stopped before its end")
	_, err = ParseSums("not a sum\n")
	assert.ErrorContains(t, err, "unexpected sha256sum line")
	sum := sha256.Sum256(nil)
	s, err := ParseSums(hex.EncodeToString(sum[:]) + "  /etc/empty\n")
	require.NoError(t, err)
	assert.True(t, s.Holds("/etc/empty", nil))
	assert.False(t, strings.Contains(got["sums"], "value"), "sums, not contents")
}

type countingRunner struct {
	Runner
	runs int
}

func (c *countingRunner) Run(ctx context.Context, cmd Cmd) error {
	c.runs++
	return c.Runner.Run(ctx, cmd)
}

// TestAnswerBatch: a fake's answers come back through Batch as a real
// shell's would.
func TestAnswerBatch(t *testing.T) {
	t.Parallel()
	fake := &fakeBatchRunner{answers: map[string]string{"a": "one\n", "b": "two"}}
	got, err := Batch(t.Context(), fake, []Query{{Name: "a", Command: "x"}, {Name: "b", Command: "y"}, {Name: "c", Command: "z"}})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "one\n", "b": "two", "c": ""}, got)
	_, ok := AnswerBatch("echo hello", nil)
	assert.False(t, ok, "not a batch")
}

type fakeBatchRunner struct {
	Local
	answers map[string]string
}

func (f *fakeBatchRunner) Run(_ context.Context, cmd Cmd) error {
	out, _ := AnswerBatch(cmd.Command, f.answers)
	_, err := cmd.Stdout.Write([]byte(out))
	return err
}

// TestExecutableCommand: which files are executable, read through a real
// shell as a Batch answer, names with spaces included.
func TestExecutableCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script, plain := filepath.Join(dir, "boot script"), filepath.Join(dir, "conf")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755))
	require.NoError(t, os.WriteFile(plain, nil, 0o644))
	got, err := Batch(t.Context(), &Local{}, []Query{{Name: "exec", Command: ExecutableCommand([]string{script, plain, filepath.Join(dir, "missing")})}})
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{script: true}, ParseLines(got["exec"]))
	assert.Empty(t, ParseLines(""))
}

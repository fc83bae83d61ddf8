package flock

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A second Lock waits for the first to be released, and gives up when its
// context ends.
func TestLockWaitsForTheHolder(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := Lock(t.Context(), path, 0o600)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 3*poll)
	_, err = Lock(ctx, path, 0o600)
	cancel()
	assert.ErrorIs(t, err, context.DeadlineExceeded, "held: the second waits and gives up")

	got := make(chan error, 1)
	go func() {
		u, err := Lock(t.Context(), path, 0o600)
		if err == nil {
			u()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("took a held lock: %v", err)
	case <-time.After(2 * poll):
	}
	unlock()
	require.NoError(t, <-got, "released: the waiter takes it")
}

// Package flock takes machine-wide exclusive locks on files, waiting for
// them as long as a context allows: one build of an image or a cache at a
// time, one lab on a range of addresses at a time.
package flock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// poll is how often a held lock is tried again.
const poll = 200 * time.Millisecond

// Lock takes an exclusive flock on path (created with perm if missing),
// waiting until it is free or ctx ends, and returns the function that
// releases it. A process that dies releases its locks with it.
func Lock(ctx context.Context, path string, perm os.FileMode) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, perm)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: held by another: %w", path, ctx.Err())
		case <-time.After(poll):
		}
	}
}

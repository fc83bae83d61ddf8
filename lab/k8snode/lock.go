package k8snode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/planetstage/planetstage/internal/flock"
)

// lockCache takes an exclusive flock on the cache directory so that two
// builds on one machine (a test and the lab, say) do not write the same
// stage at once. It waits, honouring ctx; the returned func releases it.
func lockCache(ctx context.Context, dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cache dir %q: %w", dir, err)
	}
	unlock, err := flock.Lock(ctx, filepath.Join(dir, ".lock"), 0o644)
	if err != nil {
		return nil, fmt.Errorf("cache lock (another build holds it?): %w", err)
	}
	return unlock, nil
}

package topology

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/planetstage/planetstage/remote"
)

// SSHDialer is replaced by the real one when the SSH transport lands.
func SSHDialer(t *Topology, log *slog.Logger) func(ctx context.Context, machine string) (remote.Runner, error) {
	return func(ctx context.Context, machine string) (remote.Runner, error) {
		return nil, fmt.Errorf("%s: no SSH transport yet", machine)
	}
}

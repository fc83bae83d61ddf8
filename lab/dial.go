package lab

import (
	"context"
	"fmt"

	"github.com/planetstage/planetstage/remote"
)

// Dial returns an SSH Runner for machine name, as topology.Env.Dial wants:
// root with the lab's key, host key checked against the lab's known_hosts,
// over the Docker bridge to the machine's address. A machine whose VM is
// powered on but has no container yet gets it first.
func (l *Lab) Dial(ctx context.Context, name string) (remote.Runner, error) {
	m, ok := l.machines[name]
	if !ok {
		return nil, fmt.Errorf("lab %q: no machine %q", l.spec.Name, name)
	}
	exists, err := l.syncVM(ctx, name)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("machine %q: its VM is not powered on", name)
	}
	_ = m
	// remote.SSH is on the ssh branch; until it is on main the lab cannot
	// dial (the docker exec runner is for the lab's own plumbing only).
	return nil, fmt.Errorf("machine %q: no SSH transport in this build yet", name)
}

package lab

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
)

// Dial returns the SSH Runner of machine name; its type fits
// topology.Env.Dial. It logs in as root with the lab's key and checks the
// host key against the lab's known_hosts. A lab made from a topology
// reaches machines as on hardware, through topology.SSHPool: a router at its
// WAN address, a host through its site's router as jump host. A lab made
// from a Spec dials every machine directly over the Docker bridges. A
// machine whose VM is powered on but has no container yet gets it first.
// Runners are shared per machine; Down closes them.
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
	l.dialMu.Lock()
	defer l.dialMu.Unlock()
	if l.topo != nil {
		if l.pool == nil {
			l.pool = topology.NewSSHPool(l.topo, l.log)
		}
		return l.pool.Dial(ctx, name)
	}
	if r, ok := l.runners[name]; ok {
		return r, nil
	}
	r, err := remote.NewSSH(remote.SSHConfig{
		Name:           name,
		Addr:           net.JoinHostPort(m.Address.String(), "22"),
		User:           "root",
		IdentityFiles:  []string{l.IdentityFile()},
		KnownHostsFile: l.KnownHostsFile(),
		// A machine that was just started may still be starting sshd.
		Retry:  remote.Retry{Attempts: 10, Initial: 200 * time.Millisecond, Max: 2 * time.Second},
		Logger: l.log,
	})
	if err != nil {
		return nil, fmt.Errorf("machine %q: %w", name, err)
	}
	if l.runners == nil {
		l.runners = map[string]*remote.SSH{}
	}
	l.runners[name] = r
	return r, nil
}

// closeRunners closes every SSH connection Dial made.
func (l *Lab) closeRunners() {
	l.dialMu.Lock()
	defer l.dialMu.Unlock()
	if l.pool != nil {
		_ = l.pool.Close()
		l.pool = nil
	}
	for name, r := range l.runners {
		_ = r.Close()
		delete(l.runners, name)
	}
}

package lab

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/planetstage/planetstage/lab/k8snode"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
)

// Dial returns the SSH Runner of machine name; its type fits
// layer.Env.Dial. It logs in as root with the lab's key and checks the
// host key against the lab's known_hosts. A lab made from a topology
// reaches machines as on hardware, with layer.SSHPool's configuration: a
// router at its WAN address, a host through its site's router as jump host. A lab made
// from a Spec dials every machine directly over the Docker bridges. A
// machine whose VM is powered on but has no container yet gets it first.
// Runners are shared per machine; Down closes them.
func (l *Lab) Dial(ctx context.Context, name string) (remote.Runner, error) {
	m, ok := l.Machine(name)
	if !ok {
		return nil, fmt.Errorf("lab %q: no machine %q", l.name, name)
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
	if r, ok := l.runners[name]; ok {
		return r, nil
	}
	cfg := remote.SSHConfig{
		Name:           name,
		Addr:           net.JoinHostPort(m.Address.String(), "22"),
		User:           "root",
		IdentityFiles:  []string{l.IdentityFile()},
		KnownHostsFile: l.KnownHostsFile(),
	}
	if t := l.Topology(); t != nil {
		if l.pool == nil {
			l.pool = layer.NewSSHPool(t, l.log)
		}
		if cfg, err = l.pool.Config(name); err != nil {
			return nil, err
		}
		cfg = l.loginAs(cfg)
	}
	// The pool's retries suit a VM that is booting (two minutes). A lab
	// machine's sshd already answered before anything dials it, so a dial
	// that fails means a machine that is down: say so in seconds.
	// A container answers a dial in milliseconds; a dead one's address
	// swallows it, so a short timeout is the difference.
	cfg.Retry, cfg.KeepAlive, cfg.DialTimeout, cfg.Logger = labRetry, 5*time.Second, labDialTimeout, l.log
	if cfg.Jump != nil {
		jump := *cfg.Jump
		jump.Retry, jump.KeepAlive, jump.DialTimeout = labRetry, 5*time.Second, labDialTimeout
		cfg.Jump = &jump
	}
	r, err := remote.NewSSH(cfg)
	if err != nil {
		return nil, fmt.Errorf("machine %q: %w", name, err)
	}
	if l.runners == nil {
		l.runners = map[string]*remote.SSH{}
	}
	l.runners[name] = r
	return r, nil
}

var labRetry = remote.Retry{Attempts: 3, Initial: 250 * time.Millisecond, Max: time.Second}

const labDialTimeout = 3 * time.Second

// closeRunners closes every SSH connection Dial made.
func (l *Lab) closeRunners() {
	l.dialMu.Lock()
	defer l.dialMu.Unlock()
	for name, r := range l.runners {
		_ = r.Close()
		delete(l.runners, name)
	}
}

// Env returns the environment a plan needs to run against the lab: state,
// Dial, the lab's logger and, when the topology has hypervisors, the
// simulators' credentials and the lab's provider (the ESXi provider, then
// the machine's container when its VM powers on), with a node image the
// kubeadm settings its containers need, and, when the topology has
// latency, the tunnel ends' remotes on the WAN relay (Relay). Apply uses
// it; a program that builds its own plan passes it to layer.Plan with
// Topology().
func (l *Lab) Env(state *topology.State) *layer.Env {
	env := &layer.Env{State: state, Dial: l.Dial, Log: l.log, HostKey: l.keys.hostKey,
		Providers: map[string]layer.Provider{topology.HypervisorESXi: vmProvider{l: l, inner: layer.ESXi{}}}}
	if l.relay != nil {
		// The tunnels cross the WAN relay, which also stands in for the
		// wan layer's netem (see layer.Env.TunnelRemotes).
		env.TunnelRemotes = l.relay.Remotes
	}
	if len(l.sims) > 0 {
		// The ESXi provider logs in to the simulators with their credentials.
		env.ESXi = &layer.ESXiOptions{Getenv: l.Getenv}
	}
	if l.nodeImg != "" {
		// kubeadm on node containers of a shared Docker host.
		env.Kubeadm = k8snode.Tune
	}
	return env
}

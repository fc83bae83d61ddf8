package layer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
)

// SSHPool reaches a topology's machines over SSH, one connection per
// machine shared by every step: routers at their WAN address on the
// underlay, hosts at their site address through their site's router (a
// jump host), since a site's network is reachable only through its router.
// Host keys are checked against ssh.knownHosts unless the topology opts out.
type SSHPool struct {
	t   *topology.Topology
	log *slog.Logger
	// Pinned is a known_hosts file trusted besides ssh.knownHosts: the
	// host keys the machines layer made for the VMs it creates (NewEnv
	// sets it to the state directory's, PinnedKnownHostsFile).
	Pinned string

	mu      sync.Mutex
	runners map[string]*remote.SSH
}

// NewSSHPool returns a pool for t's machines; it dials nothing until asked.
// When t turns host key checking off it says so, as a warning on log.
func NewSSHPool(t *topology.Topology, log *slog.Logger) *SSHPool {
	t = t.Clone()
	t.SetDefaults()
	if t.SSH.InsecureIgnoreHostKey && log != nil {
		log.Warn("host key checking is off (ssh.insecureIgnoreHostKey): anyone between here and the machines can pose as them; use it for throwaway labs only",
			"topology", t.Name)
	}
	return &SSHPool{t: t, log: log, runners: make(map[string]*remote.SSH)}
}

// Dial returns the runner for machine; its type fits Env.Dial. A host's
// runner tunnels through its router's runner, so all of a site shares the
// router's one connection from here.
func (p *SSHPool) Dial(ctx context.Context, machine string) (remote.Runner, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runner(machine)
}

func (p *SSHPool) runner(machine string) (*remote.SSH, error) {
	if r, ok := p.runners[machine]; ok {
		return r, nil
	}
	cfg, err := p.Config(machine)
	if err != nil {
		return nil, err
	}
	if cfg.Jump != nil {
		via, err := p.runner(cfg.Jump.Name)
		if err != nil {
			return nil, err
		}
		cfg.Jump, cfg.Via = nil, via
	}
	r, err := remote.NewSSH(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", machine, err)
	}
	p.runners[machine] = r
	return r, nil
}

// Config is the SSH configuration for machine on its own: a host's Jump
// is its router. (Dial shares the router's connection instead.)
func (p *SSHPool) Config(machine string) (remote.SSHConfig, error) {
	m, ok := p.t.Machine(machine)
	if !ok {
		return remote.SSHConfig{}, fmt.Errorf("topology %s has no machine %q", p.t.Name, machine)
	}
	s := p.t.SSH
	router := p.routerConfig(m)
	if m.IsRouter() {
		return router, nil
	}
	host := p.baseConfig(m)
	host.Name = m.Name
	host.Addr = net.JoinHostPort(m.Address.String(), strconv.Itoa(s.Port))
	host.Jump = &router
	return host, nil
}

// routerConfig is the SSH configuration of m's site router.
func (p *SSHPool) routerConfig(m topology.Machine) remote.SSHConfig {
	r, _ := p.t.Machine(m.Site.Router.Name)
	cfg := p.baseConfig(r)
	cfg.Name = r.Name
	cfg.Addr = net.JoinHostPort(r.WAN.String(), strconv.Itoa(p.t.SSH.Port))
	return cfg
}

func (p *SSHPool) baseConfig(m topology.Machine) remote.SSHConfig {
	s := p.t.SSH
	base := remote.SSHConfig{
		User:                  s.User,
		KnownHostsFile:        s.KnownHosts,
		PinnedKnownHosts:      p.Pinned,
		InsecureIgnoreHostKey: s.InsecureIgnoreHostKey,
		Agent:                 s.IdentityFile == "",
		Retry:                 remote.BootRetry,
		// VyOS wants its configuration scripts run as the login user:
		// under sudo they leave files that break later CLI editing.
		Sudo:   s.User != "root" && !(m.IsRouter() && m.Site.Router.Kind == topology.RouterVyOS),
		Logger: p.log,
	}
	if s.IdentityFile != "" {
		base.IdentityFiles = []string{s.IdentityFile}
	}
	return base
}

// Close closes every connection the pool made.
func (p *SSHPool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for name, r := range p.runners {
		if err := r.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		delete(p.runners, name)
	}
	return errors.Join(errs...)
}

// SSHCommand is the OpenSSH command line that reaches machine as t's ssh
// section says (user, key, known_hosts, hosts through their site's router)
// and runs command there, or a login shell: what `stage ssh` runs.
func SSHCommand(t *topology.Topology, machine string, command ...string) ([]string, error) {
	return NewSSHPool(t, nil).SSHCommand(machine, command...)
}

// SSHCommand is the OpenSSH command line that reaches machine as the
// pool would, Pinned included, and runs command there, or a login shell.
func (p *SSHPool) SSHCommand(machine string, command ...string) ([]string, error) {
	cfg, err := p.Config(machine)
	if err != nil {
		return nil, err
	}
	return cfg.OpenSSHArgs(command...), nil
}

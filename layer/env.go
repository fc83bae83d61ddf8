package layer

import (
	"context"
	"errors"
	"golang.org/x/crypto/ssh"
	"log/slog"
	"net/netip"
	"time"

	"github.com/planetstage/planetstage/topology"

	"github.com/planetstage/planetstage/kubeadm"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/wan"
)

// Env is what building and running a plan needs beyond the topology: where
// its state lives and how to reach its machines. Layers get everything
// through it, never through globals.
type Env struct {
	// State holds generated material between runs. Required.
	State *topology.State
	// HostKey gives the SSH host key a new VM is bootstrapped with (its
	// OpenSSH private key and public key), which the machines layer pins
	// before the VM boots; nil means one made and kept in State. The lab
	// passes its own, which its known_hosts already lists.
	HostKey func(machine string) ([]byte, ssh.PublicKey, error)
	// Dial returns a Runner for the router or host called machine. The
	// runner may be shared: callers do not close it. SSHDialer builds the
	// usual one; the lab provides its own.
	Dial func(ctx context.Context, machine string) (remote.Runner, error)
	// Log receives debug detail (generated configs, command output); nil
	// discards it.
	Log *slog.Logger
	// ShowSecrets makes Render print keys and tokens instead of
	// secret.Redacted.
	ShowSecrets bool
	// Kubeadm adjusts the cluster layer's kubeadm settings before use: what
	// a lab needs beyond the topology (a local ImageRepository, a
	// KubeletConfiguration in ExtraDocuments, IgnorePreflightErrors). Nil on
	// real machines.
	Kubeadm func(*kubeadm.Cluster)
	// ESXi configures the ESXi provider and caches its sessions; nil means
	// credentials from GOVC_USERNAME / GOVC_PASSWORD and a session per plan.
	ESXi *ESXiOptions
	// Providers adds or replaces machine providers by hypervisor kind
	// (topology.Hypervisor.Kind); kinds it lacks get the built-in ones
	// (Providers).
	Providers map[string]Provider
	// TunnelKinds adds or replaces tunnel kinds by vpn.type
	// (topology.VPN.Type); types it lacks get the built-in ones
	// (TunnelKinds).
	TunnelKinds map[string]TunnelKind
	// Latency is the WAN latency to emulate between the sites (package
	// wan): set by a program, e.g. from a --geo preset (wan.GeoPreset).
	// Nil means none. See the wan layer.
	Latency *wan.Model
	// TunnelRemotes sends tunnel ends somewhere other than their peer's
	// WAN address: the lab points each end at its face of the user-space
	// WAN relay (see RelayPlan). The relay then carries the latency, so
	// the wan layer adds no netem (and VyOS routers no network emulator)
	// on top. Nil on real hardware.
	TunnelRemotes map[RelayEnd]netip.AddrPort

	// TunnelProbe bounds how long a tunnel's probe waits for an answer
	// through it; 0 means TunnelProbeBound.
	TunnelProbe time.Duration

	// closers end what NewEnv opened.
	closers []func(context.Context) error
}

// logger returns env.Log or a logger that discards everything.
func (env *Env) logger() *slog.Logger {
	if env.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return env.Log
}

// Secret returns s, or secret.Redacted unless env.ShowSecrets.
func (env *Env) Secret(s string) string {
	if env.ShowSecrets {
		return s
	}
	return secret.Redacted
}

// NewEnv is the environment of a testbed on real machines: state, SSH to
// every machine as t's ssh section says (SSHPool: host keys checked, hosts
// through their routers), and ESXi sessions with credentials from the
// GOVC_* variables. Close it when done.
func NewEnv(t *topology.Topology, state *topology.State, log *slog.Logger) *Env {
	pool := NewSSHPool(t, log)
	if state != nil {
		pool.Pinned, _ = state.Path(PinnedKnownHostsFile) // a name of ours: cannot fail
	}
	esxi := &ESXiOptions{}
	return &Env{State: state, Dial: pool.Dial, Log: log, ESXi: esxi, closers: []func(context.Context) error{
		esxi.Close,
		func(context.Context) error { return pool.Close() },
	}}
}

// OpenEnv is NewEnv with t's state opened (OpenState) from dir, or from
// topology.DefaultStateDir(t.Name) when dir is empty: how a program that
// acts on real machines starts. Close the Env when done.
func OpenEnv(t *topology.Topology, dir string, log *slog.Logger) (*Env, error) {
	if dir == "" {
		var err error
		if dir, err = topology.DefaultStateDir(t.Name); err != nil {
			return nil, err
		}
	}
	st, err := topology.OpenState(dir)
	if err != nil {
		return nil, err
	}
	return NewEnv(t, st, log), nil
}

// Close ends what NewEnv opened: SSH connections and hypervisor sessions.
// It uses a context of its own, bounded to ten seconds, so that an
// interrupted run still logs out.
func (env *Env) Close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var errs []error
	for _, c := range env.closers {
		errs = append(errs, c(ctx))
	}
	env.closers = nil
	return errors.Join(errs...)
}

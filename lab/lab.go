package lab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/planetstage/planetstage/lab/k8snode"
	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// LabelKey labels every container and network of a lab with the lab's name.
const LabelKey = "io.planetstage.lab"

// Options tune Up.
type Options struct {
	// Image is the image every machine runs. Empty builds (or reuses) the
	// image of DefaultRecipe. A custom image must run sshd in the foreground
	// with the host key at /etc/ssh/ssh_host_ed25519_key and root logins by
	// key, and have ip, ping and iptables.
	Image string
	// NodeImage is the image of the Kubernetes nodes (control planes and
	// workers of a topology with a cluster): a lab/k8snode image from
	// k8snode.Build, started with k8snode.RunFlags. Empty: they run Image
	// like every other machine, and kubeadm cannot run on them.
	NodeImage string
	// Mirror overrides the Debian mirror read from the apt sources.
	Mirror string
	// StateDir keeps keys and known_hosts (mode 0700). Empty uses
	// <user cache dir>/planetstage/lab/<name>.
	StateDir string
	// Log receives debug detail; nil discards it.
	Log *slog.Logger
	// Progress receives one event when a phase starts and one when it ends.
	Progress func(Event)
	// RelayCommand runs the WAN relay (see Relay) of a topology with
	// latency as a process of its own, which outlives this program (see
	// SelfRelay); nil runs it in this process for as long as the Lab. Down
	// stops it either way.
	RelayCommand RelayCommand
	// Kubernetes runs the control planes and workers of a topology with a
	// cluster on the offline Kubernetes node image (package k8snode), built
	// or found in its cache by Up when NodeImage is empty, and adds the
	// cluster layer to Apply's default layers. The first build compiles
	// Kubernetes: about 11 minutes on two cores.
	Kubernetes bool
	// NodeImageOptions tune that build (cache directory, log).
	NodeImageOptions k8snode.Options
	// VyOSImage is a real VyOS image, built by the user from a VyOS ISO
	// (see the package doc), that routers of kind vyos run in; VyOSVersion
	// is the VyOS version it runs (1.2 … 1.5), whose syntax package vyos
	// then speaks to every such router. Empty: the environment's
	// PLANETSTAGE_VYOS_IMAGE and PLANETSTAGE_VYOS_VERSION; when they are
	// empty too, routers of kind vyos run in the VyOS stand-in
	// (vyos/vyosstandin), in their own version.
	VyOSImage, VyOSVersion string
}

// Phase is a stage of bringing a lab up or applying to it.
type Phase string

// The phases, in the order a lab goes through them.
const (
	PhasePackages  Phase = "Installing Debian packages"
	PhaseImage     Phase = "Building the lab image"
	PhaseNodeImage Phase = "Kubernetes node image"
	// PhaseStandinImage adds the VyOS stand-in to the node image, for
	// routers of kind vyos when no VyOS image is given.
	PhaseStandinImage Phase = "Building the VyOS stand-in image"
	PhaseNetworks     Phase = "Creating networks"
	PhaseRelay        Phase = "Starting the WAN relay"
	PhaseMachines     Phase = "Starting machines"
	PhaseSSH          Phase = "Waiting for sshd"
	PhaseConverge     Phase = "Waiting until the tunnels carry every pair"
)

// Event is a progress report: a phase started (Done false) or ended.
// Detail adds what varies (an image tag, the relay's ports).
type Event struct {
	Phase   Phase
	Detail  string
	Done    bool
	Elapsed time.Duration
	Err     error
	// Cached marks the end of an image phase that found the image built
	// before.
	Cached bool
}

// String is the event as a progress line shows it.
func (e Event) String() string {
	if e.Detail == "" {
		return string(e.Phase)
	}
	return string(e.Phase) + " " + e.Detail
}

func progressFunc(f func(Event)) func(Event) {
	if f == nil {
		return func(Event) {}
	}
	return f
}

// Lab is a running lab: one container per machine of a Spec.
type Lab struct {
	name    string // spec.Name, which never changes
	d       *engine
	keys    keyStore
	image   string
	nodeImg string
	// cloudInit says the lab image runs cloud-init: a machine of that image
	// whose VM the machines layer made boots from the VM's user-data.
	cloudInit bool
	log       *slog.Logger
	progress  func(Event)

	// mu guards what Grow changes while other methods may run: the spec,
	// its machines, the topology as the lab runs it and the notes.
	mu       sync.RWMutex
	spec     Spec
	machines map[string]Machine

	// Set when the lab runs a topology (Up rather than UpSpec).
	topo         *topology.Topology // guarded by mu
	given        *topology.Topology // the caller's, topo's source; guarded by mu
	notes        []string           // guarded by mu
	sims         map[string]*simHypervisor
	hypervisorOf map[string]string // site -> hypervisor
	followVMs    bool              // machines of hypervisor sites wait for their VM
	vmBacked     map[string]bool   // machines that exist once their VM is on; guarded by mu
	startLocks   sync.Map          // machine -> *sync.Mutex

	// The WAN relay (nil without latency), how to run it as a process,
	// and how to stop the one this process runs.
	relay        *Relay
	relayCommand RelayCommand
	stopRelay    func() error
	relayStarted []byte     // the in-process relay's paths (relayConfig)
	liveRelay    *wan.Relay // the relay stopRelay stops, for live changes; guarded by mu
	stateDir     string
	state        *topology.State

	// A real VyOS image for routers of kind vyos, or the stand-in's.
	vyosImage, vyosVersion string
	standinMu              sync.Mutex
	standinImg             string // guarded by standinMu

	dialMu  sync.Mutex
	pool    *layer.SSHPool
	runners map[string]*remote.SSH
}

// UpSpec builds the lab for spec: it removes what a crashed run of a lab
// with the same name left behind, builds or reuses the node image, creates
// the networks and starts every machine, and returns when every sshd
// answers. On error it removes what it made.
func UpSpec(ctx context.Context, spec Spec, opts Options) (*Lab, error) {
	return up(ctx, spec, opts, nil)
}

// up brings spec up; with t, the lab runs that topology, and the machines
// of its hypervisor sites wait for their VMs.
func up(ctx context.Context, spec Spec, opts Options, t *topology.Topology) (*Lab, error) {
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("lab %q: %w", spec.Name, err)
	}
	d, err := newEngine()
	if err != nil {
		return nil, err
	}
	if _, err := d.ping(ctx); err != nil {
		return nil, err
	}
	l, err := newLab(spec, d, opts)
	if err != nil {
		return nil, err
	}
	l.followVMs = t != nil
	if t != nil {
		for _, m := range t.Machines() {
			if m.Site.Hypervisor != "" {
				l.vmBacked[m.Name] = true
			}
		}
	}
	// The node image first: its preflight covers the lab image's needs
	// too, so a machine that lacks something learns it before any build.
	if t != nil && opts.Kubernetes && t.Cluster != nil && l.nodeImg == "" {
		if err := l.buildNodeImage(ctx, opts.NodeImageOptions); err != nil {
			return nil, err
		}
	}
	if l.image == "" {
		// The default image has cloud-init: VM machines boot from their
		// VMs' user-data. An image of the caller's is not assumed to.
		l.cloudInit = true
		if l.image, err = ensureImage(ctx, d, DefaultRecipe(), ImageOptions{Mirror: opts.Mirror, Progress: opts.Progress}); err != nil {
			return nil, err
		}
	}
	if err := sweep(ctx, d, spec.Name, l.image); err != nil {
		return nil, fmt.Errorf("lab %q: remove leftovers: %w", spec.Name, err)
	}
	if l.relayCommand == nil {
		// A relay process of a lab of this name that is gone would hold
		// the ports this one's relay needs.
		if err := stopRelayProcess(ctx, l.stateDir); err != nil {
			return nil, fmt.Errorf("lab %q: remove leftovers: %w", spec.Name, err)
		}
	}
	// Every machine is new, so what an earlier lab's plan state says about
	// them (cluster members, tokens) is stale.
	if err := os.RemoveAll(filepath.Join(l.stateDir, planStateDir)); err != nil {
		return nil, fmt.Errorf("lab %q: %w", spec.Name, err)
	}
	if t != nil {
		for _, h := range t.Hypervisors {
			sim, err := startSimulator(h.Name)
			if err != nil {
				l.closeSimulators()
				return nil, err
			}
			l.sims[h.Name] = sim
		}
		for _, s := range t.Sites {
			l.hypervisorOf[s.Name] = s.Hypervisor
		}
		l.adapt(t)
		if l.relay, err = RelayFor(l.topo); err != nil {
			l.closeSimulators()
			return nil, err
		}
		if err := l.ensureStandin(ctx); err != nil {
			l.closeSimulators()
			return nil, err
		}
	}
	if err := l.up(ctx); err != nil {
		// Cleanup must run even when ctx is what failed.
		cleanupCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		return nil, errors.Join(err, l.Down(cleanupCtx))
	}
	return l, nil
}

// newLab is a Lab for spec with its key store open, not yet up.
func newLab(spec Spec, d *engine, opts Options) (*Lab, error) {
	l := &Lab{name: spec.Name, spec: spec, d: d, log: opts.Log, image: opts.Image, nodeImg: opts.NodeImage, machines: map[string]Machine{}, relayCommand: opts.RelayCommand,
		progress: progressFunc(opts.Progress), sims: map[string]*simHypervisor{}, hypervisorOf: map[string]string{},
		vmBacked: map[string]bool{}}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	for _, m := range spec.Machines() {
		l.machines[m.Name] = m
	}
	var err error
	if l.vyosImage, l.vyosVersion, err = vyosOptions(opts); err != nil {
		return nil, err
	}
	dir := opts.StateDir
	if dir == "" {
		if dir, err = DefaultStateDir(spec.Name); err != nil {
			return nil, err
		}
	}
	keys, err := openKeyStore(dir)
	if err != nil {
		return nil, err
	}
	l.keys, l.stateDir = keys, dir
	return l, nil
}

func (l *Lab) up(ctx context.Context) error {
	// The client key exists before any machine does: the machines layer
	// authorizes it in the user-data of the VMs it creates, which may be
	// every machine of the lab.
	if _, _, err := l.keys.clientKey(); err != nil {
		return fmt.Errorf("lab %q: client key: %w", l.name, err)
	}
	if err := l.phase(PhaseNetworks, func() error { return l.createNetworks(ctx) }); err != nil {
		return err
	}
	if l.relay != nil {
		first, last := l.relay.Ports()
		detail := fmt.Sprintf("on %s:%d-%d", l.relay.Bind, first, last)
		if err := l.phaseDetail(PhaseRelay, detail, func() error { return l.startRelay(ctx) }); err != nil {
			return err
		}
	}
	if err := l.phase(PhaseMachines, func() error { return l.startMachines(ctx) }); err != nil {
		return err
	}
	return l.phase(PhaseSSH, func() error { return l.waitSSH(ctx) })
}

// buildNodeImage builds (or finds in its cache) the Kubernetes node image.
func (l *Lab) buildNodeImage(ctx context.Context, o k8snode.Options) error {
	if o.Log == nil {
		o.Log = l.log
	}
	if o.Preflight.Hook == nil && o.Hook == nil {
		o.Preflight.Hook = preflightEvents(l.progress)
	}
	start := time.Now()
	l.progress(Event{Phase: PhaseNodeImage, Detail: "(a cold build compiles Kubernetes: about 11 minutes on 2 cores)"})
	res, err := k8snode.Build(ctx, o)
	done := Event{Phase: PhaseNodeImage, Done: true, Elapsed: time.Since(start), Err: err}
	if err != nil {
		l.progress(done)
		return fmt.Errorf("lab %q: %s: %w", l.name, PhaseNodeImage, err)
	}
	l.nodeImg = res.Image
	done.Detail, done.Cached = res.Image+" (cached)", len(res.Built) == 0
	if !done.Cached {
		done.Detail = res.Image + " (built " + strings.Join(res.Built, ", ") + ")"
	}
	l.progress(done)
	return nil
}

func (l *Lab) phase(p Phase, f func() error) error { return l.phaseDetail(p, "", f) }

func (l *Lab) phaseDetail(p Phase, detail string, f func() error) error {
	start := time.Now()
	l.progress(Event{Phase: p, Detail: detail})
	err := f()
	e := Event{Phase: p, Detail: detail, Done: true, Elapsed: time.Since(start), Err: err}
	l.progress(e)
	if err != nil {
		return fmt.Errorf("lab %q: %s: %w", l.name, e, err)
	}
	return nil
}

// DefaultStateDir is where a lab keeps its keys when Options.StateDir is empty.
func DefaultStateDir(name string) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("lab: no state directory (set Options.StateDir): %w", err)
	}
	return filepath.Join(base, "planetstage", "lab", name), nil
}

// Name returns the lab's name.
func (l *Lab) Name() string { return l.name }

// Spec returns what the lab was built from (and grown to).
func (l *Lab) Spec() Spec {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.spec
}

// Image returns the image the machines run.
func (l *Lab) Image() string { return l.image }

// NodeImage is the Kubernetes node image the lab's control planes and
// workers run; empty when the lab runs no cluster.
func (l *Lab) NodeImage() string { return l.nodeImg }

// Machines lists the lab's machines in spec order.
func (l *Lab) Machines() []Machine { return l.Spec().Machines() }

// Machine returns the machine called name.
func (l *Lab) Machine(name string) (Machine, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	m, ok := l.machines[name]
	return m, ok
}

// machineNames are the names of the lab's machines, sorted.
func (l *Lab) machineNames() []string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return sortedNames(l.machines)
}

// isVMBacked says whether machine name exists only once its VM is on.
func (l *Lab) isVMBacked(name string) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.vmBacked[name]
}

// KnownHostsFile is the known_hosts file with every machine's host key,
// under its name and addresses.
func (l *Lab) KnownHostsFile() string { return l.keys.KnownHostsFile() }

// IdentityFile is the private key (0600) every machine authorizes for root.
func (l *Lab) IdentityFile() string { return l.keys.IdentityFile() }

// ContainerName returns the Docker container that runs machine name.
func (l *Lab) ContainerName(name string) string { return l.name + "-" + name }

// Exec returns a Runner that runs commands in machine name's container
// through the Docker engine's exec, bypassing SSH: for looking from inside (the matrix) and for
// tests. Layers should use Dial, as they would on real machines.
func (l *Lab) Exec(name string) (remote.Runner, error) {
	if _, ok := l.Machine(name); !ok {
		return nil, fmt.Errorf("lab %q: no machine %q", l.name, name)
	}
	return execRunner{e: l.d, container: l.ContainerName(name), name: name}, nil
}

// Down removes the lab's containers, networks and firewall rules, and stops
// its simulated hypervisors and its WAN relay, in this process or not.
func (l *Lab) Down(ctx context.Context) error {
	l.closeRunners()
	l.closeSimulators()
	return errors.Join(l.stopRelays(ctx), sweep(ctx, l.d, l.name, l.image))
}

func (l *Lab) closeSimulators() {
	for name, sim := range l.sims {
		sim.close()
		delete(l.sims, name)
	}
}

// Down removes every container, network and firewall rule labelled with the
// lab name, whoever made them, and stops the WAN relay process of the lab's
// state directory (opts.StateDir, or the default): what `--down` and a
// crashed run's next Up do.
func Down(ctx context.Context, name string, opts Options) error {
	d, err := newEngine()
	if err != nil {
		return err
	}
	dir := opts.StateDir
	if dir == "" {
		if dir, err = DefaultStateDir(name); err != nil {
			return err
		}
	}
	return errors.Join(stopRelayProcess(ctx, dir), sweep(ctx, d, name, ""))
}

// sortedNames returns the keys of m in order.
func sortedNames(m map[string]Machine) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"

	"github.com/planetstage/planetstage/topology"
)

// SpecFrom returns the lab spec of t: its underlay, sites, routers and hosts.
func SpecFrom(t *topology.Topology) Spec {
	s := Spec{Name: t.Name, Underlay: t.Underlay.Prefix}
	for _, site := range t.Sites {
		ls := Site{Name: site.Name, Prefix: site.Prefix,
			Router: Router{Name: site.Router.Name, WAN: site.Router.WAN, LAN: site.Router.LAN}}
		for _, h := range site.Hosts {
			var k8s string
			if t.Cluster != nil && (h.Role == topology.RoleControlPlane || h.Role == topology.RoleWorker) {
				k8s = h.Role
			}
			ls.Hosts = append(ls.Hosts, Host{Name: h.Name, Address: h.Address, Kubernetes: k8s})
		}
		s.Sites = append(s.Sites, ls)
	}
	return s
}

// Up brings t up in the lab: networks, the WAN relay, and the machines of
// sites without a hypervisor, which exist (run) at once. Each hypervisor of
// t becomes govmomi's simulator of a standalone ESXi host, in this process;
// a machine of a site on a hypervisor gets its container when Apply's
// machines layer has created and powered on its VM there. With
// opts.Kubernetes it first builds (or finds) the Kubernetes node image.
// Topology returns t as the lab runs it; Apply applies the layers; Down
// removes it all.
func Up(ctx context.Context, t *topology.Topology, opts Options) (*Lab, error) {
	return up(ctx, SpecFrom(t), opts, t)
}

// Topology returns the topology as the lab runs it (nil for a lab made
// from a Spec): hypervisor URLs point at the simulators and pin their
// certificates, SSH uses the lab's key and known_hosts, and a router of
// kind vyos has the version of the real VyOS image it runs in, if one
// was given (Routers says what runs each router).
// Notes says what was changed.
func (l *Lab) Topology() *topology.Topology {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.topo
}

// Notes lists, in words for a user, where the lab differs from the
// hardware the topology describes.
func (l *Lab) Notes() []string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return slices.Clone(l.notes)
}

// adapt makes the lab's copy of t, and the notes that say how it differs.
func (l *Lab) adapt(t *topology.Topology) {
	c, notes := l.adapted(t)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.topo, l.notes, l.given = c, notes, t
}

// Given is the topology the lab runs as its caller gave it to Up or Attach
// (or last to Grow): what a grown topology starts from. Topology is the
// lab's adapted copy of it.
func (l *Lab) Given() *topology.Topology {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.given
}

func (l *Lab) adapted(t *topology.Topology) (c *topology.Topology, notes []string) {
	c = t.Clone()
	c.SSH = &topology.SSH{User: "root", IdentityFile: l.IdentityFile(), KnownHosts: l.KnownHostsFile()}
	for i := range c.Sites {
		r := &c.Sites[i].Router
		if note := l.adaptRouter(r); note != "" {
			notes = append(notes, note)
		}
	}
	for i := range c.Hypervisors {
		h := &c.Hypervisors[i]
		if sim, ok := l.sims[h.Name]; ok {
			note := fmt.Sprintf("hypervisor %s (%s) is govmomi's ESXi simulator at %s", h.Name, h.URL, sim.url.Host)
			if h.Datastore != "" {
				note += fmt.Sprintf(", datastore %s its %s", h.Datastore, simDatastore)
			}
			notes = append(notes, note)
			// The simulator's own certificate, login (Getenv) and
			// datastore; the uplinks and vSwitch stay the file's.
			h.URL, h.Thumbprint, h.Insecure, h.CAFile, h.Credentials = sim.url.String(), sim.thumbprint, false, sim.caFile, nil
			h.Datastore = ""
		}
	}
	c.SetDefaults()
	if c.VPN != nil && c.VPN.Type == topology.VPNTypeWireGuard {
		// The containers share this machine's kernel.
		if kernelWireGuard() {
			notes = append(notes, "WireGuard tunnels run on this kernel's WireGuard module")
		} else {
			notes = append(notes, "WireGuard tunnels run as wireguard-go in the routers' containers: this kernel has no WireGuard module")
		}
	}
	return c, notes
}

// kernelWireGuard reports whether this machine's kernel has WireGuard
// loaded or can load it.
func kernelWireGuard() bool {
	if _, err := os.Stat("/sys/module/wireguard"); err == nil {
		return true
	}
	return exec.Command("modprobe", "-n", "-q", "wireguard").Run() == nil
}

// ErrNotUp is Attach's error when no lab of the topology runs.
var ErrNotUp = errors.New("not up")

// UpOrAttach returns the running lab of t (Attach), or brings it up (Up)
// when there is none: for a program that applies to a lab that an earlier
// run may have left up. A host of t that the running lab has no container
// for (one added to the file since) gets its container now, so that the
// Apply that follows builds it in: adding a node from the command line is
// editing the file and applying it again. Any other failure to attach is
// returned as is.
func UpOrAttach(ctx context.Context, t *topology.Topology, opts Options) (*Lab, error) {
	l, err := Attach(ctx, t, opts)
	if errors.Is(err, ErrNotUp) {
		return Up(ctx, t, opts)
	}
	if err != nil {
		return nil, err
	}
	if err := l.startAbsent(ctx, opts); err != nil {
		return nil, fmt.Errorf("lab %q: %w", l.name, err)
	}
	return l, nil
}

// Attach returns the running lab of t that an earlier process brought up
// (and left up), without changing it: for measuring it (Matrix), dialling
// its machines, or tearing it down. The simulated hypervisors lived in that
// process and are gone; Attach makes none (Apply's machines layer then
// only checks that their containers run). Nor does it start a WAN relay:
// Relay says where the one that process started listens, and Env points
// the tunnels at it; Apply starts it again when it is gone (RelayRunning),
// as a process of its own with Options.RelayCommand.
func Attach(ctx context.Context, t *topology.Topology, opts Options) (*Lab, error) {
	spec := SpecFrom(t)
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("lab %q: %w", spec.Name, err)
	}
	d, err := newEngine()
	if err != nil {
		return nil, err
	}
	cs, err := d.listContainers(ctx, LabelKey+"="+spec.Name)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("lab %q is %w: no container is labelled %s=%s", spec.Name, ErrNotUp, LabelKey, spec.Name)
	}
	l, err := newLab(spec, d, opts)
	if err != nil {
		return nil, err
	}
	if l.image == "" {
		// The lab image Up uses without Options.Image, for what starts a
		// machine or a helper container (Start, a host added to the file).
		l.image = DefaultRecipe().Tag()
	}
	if l.nodeImg == "" {
		// Kubernetes nodes started from a node image keep needing its
		// kubeadm settings (Env).
		for _, c := range cs {
			if c.Labels[roleLabel] == "kubernetes" {
				l.nodeImg = c.Image
				break
			}
		}
	}
	l.adapt(t)
	if l.relay, err = RelayFor(l.topo); err != nil {
		return nil, err
	}
	return l, nil
}

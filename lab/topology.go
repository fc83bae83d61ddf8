package lab

import (
	"context"
	"fmt"
	"strings"

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
// certificates, routers of kind vyos are linux routers, and SSH uses the
// lab's key and known_hosts.
// Notes says what was changed.
func (l *Lab) Topology() *topology.Topology { return l.topo }

// Notes lists, in words for a user, where the lab differs from the
// hardware the topology describes.
func (l *Lab) Notes() []string { return l.notes }

// adapt makes the lab's copy of t.
func (l *Lab) adapt(t *topology.Topology) {
	c := t.Clone()
	c.SSH = &topology.SSH{User: "root", IdentityFile: l.IdentityFile(), KnownHosts: l.KnownHostsFile()}
	for i := range c.Sites {
		r := &c.Sites[i].Router
		if r.Kind == topology.RouterVyOS {
			// The lab has no VyOS image to run: say so, and run the
			// router's tunnels and routes on Linux.
			l.notes = append(l.notes, fmt.Sprintf("router %s (VyOS %s) runs as a Linux router with the same tunnels and routes: the lab does not run VyOS",
				r.Name, r.Version))
			r.Kind, r.Version = topology.RouterLinux, ""
		}
	}
	for i := range c.Hypervisors {
		h := &c.Hypervisors[i]
		if sim, ok := l.sims[h.Name]; ok {
			l.notes = append(l.notes, fmt.Sprintf("hypervisor %s (%s) is govmomi's ESXi simulator at %s", h.Name, h.URL, sim.url.Host))
			h.URL, h.Thumbprint, h.Insecure = sim.url.String(), sim.thumbprint, false
		}
	}
	c.SetDefaults()
	l.topo = c
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
	d, err := newDockerCLI()
	if err != nil {
		return nil, err
	}
	out, err := d.run(ctx, nil, "ps", "-aq", "--filter", "label="+LabelKey+"="+spec.Name)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(out) == "" {
		return nil, fmt.Errorf("lab %q is not up: no container is labelled %s=%s", spec.Name, LabelKey, spec.Name)
	}
	l, err := newLab(spec, d, opts)
	if err != nil {
		return nil, err
	}
	if l.nodeImg == "" {
		// Kubernetes nodes started from a node image keep needing its
		// kubeadm settings (Env).
		img, err := d.run(ctx, nil, "ps", "-a", "--filter", "label="+LabelKey+"="+spec.Name,
			"--filter", "label=io.planetstage.role=kubernetes", "--format", "{{.Image}}")
		if err != nil {
			return nil, err
		}
		if f := strings.Fields(img); len(f) > 0 {
			l.nodeImg = f[0]
		}
	}
	l.adapt(t)
	if l.relay, err = RelayFor(l.topo); err != nil {
		return nil, err
	}
	return l, nil
}

package kubeadm

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/version"
)

// DefaultCRISocket is containerd's CRI socket, the runtime kubeadm finds first.
const DefaultCRISocket = "unix:///run/containerd/containerd.sock"

// Cluster is everything the package needs to know about one kubeadm HA
// cluster. It is plain data: a program that has no planetstage topology fills
// it in directly.
type Cluster struct {
	// Name is the clusterName kubeadm writes into kubeconfigs ("thesis").
	Name string
	// KubernetesVersion is the control plane's version ("v1.37.2"); it also
	// picks the kubeadm config API version (see APIVersion).
	KubernetesVersion string
	// Endpoint is the load balancer's address and API port: the
	// controlPlaneEndpoint every node and kubeconfig uses.
	Endpoint netip.AddrPort
	// PodSubnet and ServiceSubnet are the cluster's networks.
	PodSubnet, ServiceSubnet netip.Prefix
	// CRISocket is the container runtime's socket; DefaultCRISocket when empty.
	CRISocket string
	// ControlPlanes are the masters in order: the first runs kubeadm init,
	// the others join one at a time in this order.
	ControlPlanes []Node
	// Workers join in parallel once the first control plane is up.
	Workers []Node
	// ExtraSANs are added to the API server certificate besides the load
	// balancer and every control plane (address and name).
	ExtraSANs []string
	// ImageRepository overrides registry.k8s.io (a local registry in a lab).
	ImageRepository string
	// IgnorePreflightErrors is passed to kubeadm's own preflight checks, e.g.
	// "SystemVerification" on a cgroup v1 lab host. Empty on real machines.
	IgnorePreflightErrors []string
	// ExtraDocuments are more YAML documents appended to the init
	// configuration, typically a KubeletConfiguration or a
	// KubeProxyConfiguration.
	ExtraDocuments []string
	// Components tunes the API server, controller manager, scheduler and
	// etcd of every control plane (flags and environment), e.g. to fit three
	// masters on a small machine.
	Components ControlPlaneComponents
	// SkipPhases are kubeadm init phases not to run on the first control
	// plane, e.g. "addon/coredns" where no pod needs DNS. Names come from
	// InitPhases; phases the rest of the flow needs are refused.
	SkipPhases []string
}

// Node is one machine of the cluster.
type Node struct {
	// Name becomes the Kubernetes node name.
	Name string
	// Address is the node's site address: its advertise address and kubelet
	// node IP, the one the other sites reach through the tunnels.
	Address netip.Addr
}

// APIVersion is the kubeadm configuration API this package writes.
const APIVersion = "kubeadm.k8s.io/v1beta4"

var nodeName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$`)

// Validate checks the cluster description and returns every problem found,
// each naming its field or node.
func (c *Cluster) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Name == "" {
		bad("cluster: name is empty")
	}
	if err := CheckVersion(c.KubernetesVersion); err != nil {
		errs = append(errs, err)
	}
	if !c.Endpoint.IsValid() || c.Endpoint.Port() == 0 {
		bad("cluster: endpoint %q is not an address:port (the load balancer and the API port)", c.Endpoint)
	}
	if !c.PodSubnet.IsValid() {
		bad("cluster: podSubnet is not set")
	}
	if !c.ServiceSubnet.IsValid() {
		bad("cluster: serviceSubnet is not set")
	}
	if c.PodSubnet.IsValid() && c.ServiceSubnet.IsValid() && c.PodSubnet.Overlaps(c.ServiceSubnet) {
		bad("cluster: podSubnet %s overlaps serviceSubnet %s", c.PodSubnet, c.ServiceSubnet)
	}
	if c.CRISocket != "" && !strings.HasPrefix(c.CRISocket, "unix://") {
		bad("cluster: criSocket %q must be a unix:// URL", c.CRISocket)
	}
	if len(c.ControlPlanes) == 0 {
		bad("cluster: no control-plane node")
	}
	seen := map[string]bool{}
	for _, n := range c.Nodes() {
		switch {
		case !nodeName.MatchString(n.Name):
			bad("node %q: name is not a valid lowercase DNS name", n.Name)
		case seen[n.Name]:
			bad("node %q: listed twice", n.Name)
		}
		seen[n.Name] = true
		if !n.Address.IsValid() {
			bad("node %q: address is not set", n.Name)
		} else if c.PodSubnet.IsValid() && c.PodSubnet.Contains(n.Address) {
			bad("node %q: address %s lies in the podSubnet %s", n.Name, n.Address, c.PodSubnet)
		}
	}
	errs = append(errs, c.validateTuning()...)
	return errors.Join(errs...)
}

// CheckVersion says whether this package can bootstrap Kubernetes v: from 1.31
// on, with kubeadm's v1beta4 configuration API.
//
// Kubernetes 1.22–1.30 read only v1beta3, which k8s.io/kubernetes v1.37 no
// longer ships. Rendering it from hand-copied types would give configs that
// kubeadm's own decoding and validation cannot check in our tests, so those
// versions are refused rather than served unverified; older ones are refused
// as kubeadm itself no longer supports them.
func CheckVersion(v string) error {
	parsed, err := version.ParseSemantic(v)
	if err != nil || !strings.HasPrefix(v, "v") {
		return fmt.Errorf("cluster: kubernetes version %q is not a version like v1.37.2", v)
	}
	switch {
	case parsed.LessThan(version.MajorMinor(1, 22)):
		return fmt.Errorf("cluster: kubernetes %s is not supported: kubeadm configuration before 1.22 (v1beta2) is out of support; use v1.31 or later", v)
	case parsed.LessThan(version.MajorMinor(1, 31)):
		return fmt.Errorf("cluster: kubernetes %s needs kubeadm config v1beta3, which this build cannot render and verify (k8s.io/kubernetes v1.37 ships only v1beta4); use v1.31 or later", v)
	}
	return nil
}

// Nodes returns the control planes then the workers.
func (c *Cluster) Nodes() []Node {
	return append(append([]Node(nil), c.ControlPlanes...), c.Workers...)
}

// Node finds a node by name and says whether it is a control plane.
func (c *Cluster) Node(name string) (n Node, controlPlane bool, ok bool) {
	for _, cp := range c.ControlPlanes {
		if cp.Name == name {
			return cp, true, true
		}
	}
	for _, w := range c.Workers {
		if w.Name == name {
			return w, false, true
		}
	}
	return Node{}, false, false
}

// FirstControlPlane is the node that runs kubeadm init.
func (c *Cluster) FirstControlPlane() Node {
	if len(c.ControlPlanes) == 0 {
		return Node{}
	}
	return c.ControlPlanes[0]
}

func (c *Cluster) criSocket() string {
	if c.CRISocket == "" {
		return DefaultCRISocket
	}
	return c.CRISocket
}

// certSANs lists the load balancer, every control plane's address and name,
// then ExtraSANs, without duplicates.
func (c *Cluster) certSANs() []string {
	var sans []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			sans = append(sans, s)
		}
	}
	add(c.Endpoint.Addr().String())
	for _, cp := range c.ControlPlanes {
		add(cp.Address.String())
	}
	for _, cp := range c.ControlPlanes {
		add(cp.Name)
	}
	for _, s := range c.ExtraSANs {
		add(s)
	}
	return sans
}

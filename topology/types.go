package topology

import "net/netip"

// APIVersion and Kind identify a topology file.
const (
	APIVersion = "planetstage.io/v1alpha1"
	Kind       = "Topology"
)

// Topology is a testbed: sites joined by VPN tunnels between their routers,
// optionally on ESXi hypervisors, optionally running a Kubernetes cluster.
type Topology struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Name names the testbed; it keys the state directory. A DNS label.
	Name string `json:"name"`
	// Hypervisors are the ESXi hosts that carve out the sites. Optional: a
	// testbed of machines that already exist has none.
	Hypervisors []Hypervisor `json:"hypervisors,omitempty"`
	// Underlay is the network the routers' WAN interfaces share (the
	// thesis's VLAN 0, standing in for the internet).
	Underlay Underlay `json:"underlay"`
	Sites    []Site   `json:"sites"`
	// VPN joins the sites; nil means the sites stay isolated.
	VPN *VPN `json:"vpn,omitempty"`
	// Cluster is the Kubernetes cluster across the sites; nil means the
	// testbed stops after the network.
	Cluster *Cluster `json:"cluster,omitempty"`
	// SSH says how planetstage reaches routers and hosts.
	SSH *SSH `json:"ssh,omitempty"`
	// Defaults apply to every host and router unless they say otherwise.
	Defaults *Defaults `json:"defaults,omitempty"`
	// Latency sets the WAN latency emulated between the sites (see
	// package wan): explicit links, and the route inflation of the model
	// that turns the sites' locations into RTTs. Nil, with no site
	// locations, means no emulated latency.
	Latency *Latency `json:"latency,omitempty"`

	// index maps machine names to machines in a plan's private copy; nil
	// elsewhere. See indexed.
	index map[string]Machine
}

// Hypervisor kinds: which provider (package layer) makes the VMs of its
// sites.
const (
	// HypervisorESXi is a standalone ESXi host (or vCenter), driven through
	// its SDK with govmomi.
	HypervisorESXi = "esxi"
)

// Hypervisor is a host that carves out sites and runs their machines as
// VMs; its Kind picks the provider. An ESXi host (or vCenter) is reached
// through its SDK URL; credentials come from GOVC_USERNAME / GOVC_PASSWORD
// or the URL's user info, never from the topology file.
type Hypervisor struct {
	Name string `json:"name"`
	// Kind is the provider that drives it: "esxi" (the default) or a kind
	// a program registers (layer.Env.Providers).
	Kind string `json:"kind,omitempty"`
	// URL is the SDK endpoint, "https://10.4.0.13/sdk".
	URL string `json:"url"`
	// Thumbprint pins the host's TLS certificate (SHA-256, colon-separated
	// hex, as govc prints it). Empty means verify against the system roots.
	Thumbprint string `json:"thumbprint,omitempty"`
	// Insecure skips TLS verification, like GOVC_INSECURE=1.
	Insecure bool `json:"insecure,omitempty"`
	// CAFile is a PEM bundle of the certificate authorities the host's
	// certificate is checked against, instead of the system roots.
	CAFile string `json:"caFile,omitempty"`
	// Uplinks are the physical NICs ("vmnic1") that join the staging
	// vSwitch to the physical switch, which must trunk the topology's
	// VLANs. A hypervisor without one keeps its VLANs inside the host, so
	// a topology of more than one hypervisor must name them.
	Uplinks []string `json:"uplinks,omitempty"`
	// Datastore holds the new VMs; empty means GOVC_DATASTORE, else the
	// host's only datastore.
	Datastore string `json:"datastore,omitempty"`
	// VSwitch names the staging vSwitch; empty means one named after the
	// topology ("vSwitch-NAME").
	VSwitch string `json:"vswitch,omitempty"`
	// Credentials say which environment variables hold the user name and
	// password; nil means govc's GOVC_USERNAME and GOVC_PASSWORD. The file
	// never holds a password.
	Credentials *Credentials `json:"credentials,omitempty"`
}

// Credentials name the environment variables a hypervisor's user name and
// password are read from.
type Credentials struct {
	UsernameEnv string `json:"usernameEnv"`
	PasswordEnv string `json:"passwordEnv"`
}

// Underlay is the shared WAN segment.
type Underlay struct {
	Prefix netip.Prefix `json:"prefix"`
	VLAN   int          `json:"vlan"`
}

// Site is one isolated network with its router and hosts.
type Site struct {
	Name   string       `json:"name"`
	VLAN   int          `json:"vlan"`
	Prefix netip.Prefix `json:"prefix"`
	// Hypervisor names the ESXi host that runs the site's VMs; empty when
	// the machines already exist.
	Hypervisor string `json:"hypervisor,omitempty"`
	Router     Router `json:"router"`
	Hosts      []Host `json:"hosts,omitempty"`
	// Location places the site on the planet, for the latency model.
	Location *Location `json:"location,omitempty"`
	// Hub names the hub (one of vpn.hubs) a spoke joins in regional mode;
	// empty means the nearest hub by location.
	Hub string `json:"hub,omitempty"`
}

// Location is where a site is: a city of the built-in table (package wan
// lists them), or coordinates in degrees.
type Location struct {
	City string  `json:"city,omitempty"`
	Lat  float64 `json:"lat,omitempty"`
	Lon  float64 `json:"lon,omitempty"`
}

// Latency is the WAN latency between sites beyond what their locations
// give.
type Latency struct {
	// Inflation is how much longer routes are than the great circle; 0
	// means 1.5.
	Inflation float64 `json:"inflation,omitempty"`
	// Links set a site pair's latency by hand, overriding the locations.
	Links []LatencyLink `json:"links,omitempty"`
}

// LatencyLink is the measured or wanted latency of one pair of sites.
type LatencyLink struct {
	From     string  `json:"from"`
	To       string  `json:"to"`
	RTTMs    float64 `json:"rttMs"`
	JitterMs float64 `json:"jitterMs,omitempty"`
	LossPct  float64 `json:"lossPct,omitempty"`
}

// Router kinds.
const (
	RouterVyOS  = "vyos"
	RouterLinux = "linux"
)

// Router joins its site to the underlay and, through tunnels, to the other
// sites.
type Router struct {
	Name string `json:"name"`
	// Kind is "vyos" (configured with set commands) or "linux" (openvpn and
	// iproute2).
	Kind string `json:"kind"`
	// Version picks the VyOS dialect ("1.2" … "1.5"); vyos only.
	Version string `json:"version,omitempty"`
	// WAN is the router's address on the underlay; LAN its address in the
	// site, the hosts' gateway.
	WAN netip.Addr `json:"wan"`
	LAN netip.Addr `json:"lan"`
	// VM overrides the VM sizing and image for this router.
	VM *VM `json:"vm,omitempty"`
}

// Host roles.
const (
	RoleLoadBalancer = "load-balancer"
	RoleControlPlane = "control-plane"
	RoleWorker       = "worker"
	RoleGeneric      = "generic"
)

// Host is a machine in a site.
type Host struct {
	Name    string     `json:"name"`
	Address netip.Addr `json:"address"`
	// Role is "load-balancer", "control-plane", "worker" or "generic".
	Role string `json:"role"`
	// VM overrides the VM sizing and image for this host.
	VM *VM `json:"vm,omitempty"`
}

// VM sizes a machine's virtual machine. Zero fields take the role's
// default.
type VM struct {
	CPUs     int `json:"cpus,omitempty"`
	MemoryMB int `json:"memoryMB,omitempty"`
	DiskGB   int `json:"diskGB,omitempty"`
	// Image is an OVA/OVF (on ESXi) or a container image (in the lab).
	Image string `json:"image,omitempty"`
}

// Defaults hold what every machine gets unless it says otherwise.
type Defaults struct {
	// VMs sizes machines by role ("router", "load-balancer",
	// "control-plane", "worker", "generic").
	VMs map[string]VM `json:"vms,omitempty"`
}

// VPN modes and authentication.
const (
	VPNMesh       = "mesh"
	VPNHubSpoke   = "hub-spoke"
	VPNRegional   = "regional"
	VPNAuthTLS    = "tls"
	VPNAuthStatic = "static-key"
)

// VPN types: which tunnel kind (package layer) carries the tunnels.
const (
	// VPNTypeOpenVPN is OpenVPN site-to-site tunnels (packages openvpn and
	// vyos).
	VPNTypeOpenVPN = "openvpn"
	// VPNTypeWireGuard is WireGuard tunnels (packages wireguard and vyos).
	VPNTypeWireGuard = "wireguard"
)

// VPN describes the site-to-site tunnels.
type VPN struct {
	// Type is the tunnel kind: "openvpn" (the default), "wireguard", or a
	// kind a program registers (layer.Env.TunnelKinds).
	Type string `json:"type,omitempty"`
	// Mode is "mesh" (a tunnel per pair of sites), "hub-spoke" (a tunnel
	// from the hub to each other site) or "regional" (the hubs in a mesh,
	// every other site joined to one hub: the one it names, else the
	// nearest by great-circle distance).
	Mode string `json:"mode"`
	// Hub names the hub site in hub-spoke mode.
	Hub string `json:"hub,omitempty"`
	// Hubs names the hub sites in regional mode.
	Hubs []string `json:"hubs,omitempty"`
	// Auth is "tls" (certificates pinned by fingerprint; the default) or
	// "static-key" (for VyOS 1.2/1.3; deprecated by OpenVPN 2.6). Not with
	// type wireguard, whose peers authenticate with their keys.
	Auth string `json:"auth,omitempty"`
	// Transit is the prefix tunnel endpoint addresses are allocated from.
	Transit netip.Prefix `json:"transit"`
	// Port is the first UDP port; each tunnel on a router takes the next.
	// 1194 by default, 51820 with type wireguard.
	Port int `json:"port,omitempty"`
	// WireGuard holds the settings of type wireguard.
	WireGuard *WireGuardVPN `json:"wireguard,omitempty"`
}

// WireGuardVPN are the settings of WireGuard tunnels.
type WireGuardVPN struct {
	// Keepalive is the persistent keepalive in seconds (25 when 0; -1
	// for none).
	Keepalive int `json:"keepalive,omitempty"`
	// PresharedKey adds a pre-shared key per tunnel.
	PresharedKey bool `json:"presharedKey,omitempty"`
	// Endpoints are where routers behind NAT are reached, by router name:
	// "ADDRESS" (each tunnel keeps its port) or "ADDRESS:PORT" (for a
	// router with one tunnel).
	Endpoints map[string]string `json:"endpoints,omitempty"`
}

// DefaultWireGuardPort is vpn.port's default with type wireguard.
const DefaultWireGuardPort = 51820

// Cluster is a kubeadm HA cluster over the sites' hosts.
type Cluster struct {
	// Kubernetes is the version, "v1.37.2".
	Kubernetes    string       `json:"kubernetes"`
	PodSubnet     netip.Prefix `json:"podSubnet"`
	ServiceSubnet netip.Prefix `json:"serviceSubnet"`
	// APIPort is the port of the API servers and of the load balancer in
	// front of them; 6443 when zero.
	APIPort int `json:"apiPort,omitempty"`
	// CNI names the pod network: empty or "vxlan" is the default, "none"
	// leaves it to the user, anything else is a manifest file applied with
	// kubectl, relative to the topology file when Load read one.
	CNI string `json:"cni,omitempty"`
}

// Pod networks that cluster.cni names rather than a manifest file.
const (
	CNIVXLAN = "vxlan"
	CNINone  = "none"
)

// SSH says how to reach routers and hosts. Every field may be left out,
// and so may the section: then planetstage logs in as root on port 22 with
// the keys of ssh-agent and checks host keys against ~/.ssh/known_hosts,
// as OpenSSH would.
type SSH struct {
	User string `json:"user,omitempty"`
	// IdentityFile is the private key; empty means the keys of ssh-agent.
	IdentityFile string `json:"identityFile,omitempty"`
	// KnownHosts lists the machines' host keys; empty means
	// DefaultKnownHosts unless InsecureIgnoreHostKey.
	KnownHosts string `json:"knownHosts,omitempty"`
	// Port is sshd's port on every machine; 22 when zero.
	Port int `json:"port,omitempty"`
	// InsecureIgnoreHostKey turns host key checking off. For throwaway labs
	// only; planetstage checks host keys unless this says otherwise, and
	// it cannot be set together with KnownHosts.
	InsecureIgnoreHostKey bool `json:"insecureIgnoreHostKey,omitempty"`
}

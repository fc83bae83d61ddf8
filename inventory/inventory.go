package inventory

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/planetstage/planetstage/layer"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/wan"
)

// Source says where an inventory's states come from.
type Source string

const (
	// FromModel is the topology alone: no machine was contacted, and no
	// state is known.
	FromModel Source = "model"
	// FromLab is a running lab: Docker and the simulated hypervisors.
	FromLab Source = "lab"
)

// ContainerState is the state of a lab machine's container.
type ContainerState string

const (
	ContainerRunning ContainerState = "running"
	// ContainerStopped is any state but running: exited, created, paused.
	ContainerStopped ContainerState = "stopped"
	// ContainerAbsent is a machine without a container, such as one whose
	// VM was never powered on.
	ContainerAbsent ContainerState = "absent"
)

// VMState is the power state of a machine's VM.
type VMState string

const (
	VMOn     VMState = "on"
	VMOff    VMState = "off"
	VMAbsent VMState = "absent"
	// VMUnknown is a VM whose hypervisor cannot be asked: in a lab
	// attached from another process, the simulated hypervisors lived in
	// the process that brought it up.
	VMUnknown VMState = "unknown"
)

// Inventory is what a testbed is made of.
type Inventory struct {
	// Topology is the topology's name.
	Topology string    `json:"topology"`
	Source   Source    `json:"source"`
	Machines []Machine `json:"machines"`
	Tunnels  []Tunnel  `json:"tunnels"`
	// Relay is the lab's WAN relay; nil in the model and in a lab without
	// latency.
	Relay *Relay `json:"relay,omitempty"`
	// Notes say, in words for a user, what the states do not show.
	Notes []string `json:"notes,omitempty"`
}

// Machine is a router or a host.
type Machine struct {
	Name string `json:"name"`
	// Role is topology.RoleRouter or the host's role (load-balancer,
	// control-plane, worker, generic).
	Role string `json:"role"`
	// Kubernetes is the machine's role in the cluster (control-plane or
	// worker); empty for machines that are no node, and without a cluster.
	Kubernetes string `json:"kubernetes,omitempty"`
	// Router is a router's kind ("vyos 1.2", "linux"; in a lab, "vyos 1.2
	// stand-in" for the VyOS stand-in); empty for hosts.
	Router string `json:"router,omitempty"`
	Site   string `json:"site"`
	// Address is the machine's address in its site (a router's LAN).
	Address netip.Addr `json:"address"`
	// WAN is a router's address on the underlay.
	WAN netip.Addr `json:"wan,omitzero"`
	// Hypervisor runs the machine's VM; empty for a machine that exists
	// without one.
	Hypervisor string `json:"hypervisor,omitempty"`
	// Container is the state of the machine's container in a lab.
	Container ContainerState `json:"container,omitempty"`
	// VM is the power state of the machine's VM in a lab, for machines
	// with a Hypervisor.
	VM VMState `json:"vm,omitempty"`
}

// Tunnel is one site-to-site tunnel (package tunnel).
type Tunnel struct {
	// Name is "ROUTER_ROUTER", the listening end first.
	Name string `json:"name"`
	// Port is the tunnel's UDP port on both routers.
	Port    uint16       `json:"port"`
	Transit netip.Prefix `json:"transit"`
	Ends    [2]TunnelEnd `json:"ends"`
	// RTTMs is the round-trip latency emulated between its sites; 0
	// without latency.
	RTTMs float64 `json:"rttMs,omitempty"`
}

// TunnelEnd is one router's end of a tunnel.
type TunnelEnd struct {
	Site   string `json:"site"`
	Router string `json:"router"`
	// WAN is the router's underlay address, the tunnel's endpoint.
	WAN netip.Addr `json:"wan"`
	// Address is the end's address in the tunnel's transit /30.
	Address netip.Addr `json:"address"`
	// Remote is where the end sends its datagrams: the peer, or in a lab
	// with latency the relay's face.
	Remote netip.AddrPort `json:"remote"`
}

// Relay is a lab's WAN relay (lab.Relay).
type Relay struct {
	// Bind is the host's address on the underlay; the relay listens on
	// ports FirstPort to LastPort there.
	Bind      netip.Addr  `json:"bind"`
	FirstPort uint16      `json:"firstPort"`
	LastPort  uint16      `json:"lastPort"`
	Running   bool        `json:"running"`
	Paths     []RelayPath `json:"paths"`
}

// RelayPath is the relay's path of one tunnel.
type RelayPath struct {
	// Name is the site pair, "site-a<->site-b".
	Name string `json:"name"`
	// ListenA and ListenB face the two routers.
	ListenA netip.AddrPort `json:"listenA"`
	ListenB netip.AddrPort `json:"listenB"`
	// RTTMs is the round trip the relay adds.
	RTTMs float64 `json:"rttMs"`
}

// Of returns the inventory of t from the topology alone (FromModel): no
// machine is contacted. remotes, when not nil, are where tunnel ends send
// instead of their peer (layer.Env.TunnelRemotes: a lab's relay faces).
func Of(t *topology.Topology, remotes map[layer.RelayEnd]netip.AddrPort) (Inventory, error) {
	inv := Inventory{Topology: t.Name, Source: FromModel, Machines: []Machine{}, Tunnels: []Tunnel{}}
	for _, m := range t.Machines() {
		im := Machine{Name: m.Name, Role: m.Role, Site: m.Site.Name, Address: m.Address, WAN: m.WAN, Hypervisor: m.Site.Hypervisor}
		if m.IsRouter() {
			im.Router = m.Site.Router.Kind
			if v := m.Site.Router.Version; v != "" {
				im.Router += " " + v
			}
		}
		if t.Cluster != nil && (m.Role == topology.RoleControlPlane || m.Role == topology.RoleWorker) {
			im.Kubernetes = m.Role
		}
		inv.Machines = append(inv.Machines, im)
	}
	if t.VPN == nil {
		return inv, nil
	}
	spec, err := layer.TunnelSpec(t)
	if err != nil {
		return Inventory{}, err
	}
	spec.Remotes = remotes
	model, err := tunnel.New(spec)
	if err != nil {
		return Inventory{}, fmt.Errorf("topology %s: %w", t.Name, err)
	}
	rtts, err := rttByTunnel(t)
	if err != nil {
		return Inventory{}, err
	}
	for _, tn := range model.Tunnels {
		it := Tunnel{Name: tn.Name(), Port: tn.Port, Transit: tn.Transit, RTTMs: rtts[tn.Name()]}
		for i, e := range tn.Ends {
			remote, _ := model.Remote(tn, e.Site)
			it.Ends[i] = TunnelEnd{Site: e.Site, Router: e.Router, WAN: e.WAN, Address: e.Address, Remote: remote}
		}
		inv.Tunnels = append(inv.Tunnels, it)
	}
	return inv, nil
}

// rttByTunnel is the emulated RTT of each tunnel by name, in milliseconds.
func rttByTunnel(t *topology.Topology) (map[string]float64, error) {
	entries, model, err := layer.LatencyMatrix(t, &layer.Env{Latency: t.LatencyModel()})
	if err != nil || model == nil {
		return nil, err
	}
	byPair := map[wan.Pair]time.Duration{}
	for _, e := range entries {
		byPair[e.Pair] = e.RTT
	}
	out := map[string]float64{}
	for _, tn := range model.Tunnels {
		out[tn.Name()] = millis(byPair[wan.NewPair(tn.Ends[0].Site, tn.Ends[1].Site)])
	}
	return out, nil
}

// PathOf is the inventory of one path of a lab's WAN relay.
func PathOf(p wan.PathConfig) RelayPath {
	return RelayPath{Name: p.Name, ListenA: p.ListenA, ListenB: p.ListenB, RTTMs: millis(p.AtoB.Delay + p.BtoA.Delay)}
}

// millis is d in milliseconds, to the microsecond.
func millis(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)) / float64(time.Millisecond)
}

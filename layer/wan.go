package layer

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/wan"
)

// wanLayer gives the tunnels the latency of real distances (package wan):
// a netem egress policy on each Linux router's tunnel interfaces (tc),
// half of each pair's RTT on either side. VyOS routers get theirs from the
// routers layer (vyos.Router.Latency, which LatencyFor fills), and the lab
// from the user-space relay (Env.TunnelRemotes; then this layer has no
// steps). The model comes from Env.Latency.
var wanLayer = Layer{
	Name:   WAN,
	Steps:  wanSteps,
	Render: renderWAN,
}

// WANNetemID is the wan layer's step that sets router's netem policies.
func WANNetemID(router string) string { return "wan/netem/" + router }

// LatencyMatrix resolves the latency of every tunnel's site pair, with the
// tunnel model it used. It returns no entries (and no error) when there is
// nothing to emulate: no VPN, or no latency model.
func LatencyMatrix(t *topology.Topology, env *Env) ([]wan.Entry, *tunnel.Model, error) {
	if t.VPN == nil || env.Latency == nil || !env.Latency.Enabled() {
		return nil, nil, nil
	}
	spec, err := TunnelSpec(t)
	if err != nil {
		return nil, nil, err
	}
	m, err := tunnel.New(spec)
	if err != nil {
		return nil, nil, err
	}
	var pairs []wan.Pair
	for _, tn := range m.Tunnels {
		pairs = append(pairs, wan.NewPair(tn.Ends[0].Site, tn.Ends[1].Site))
	}
	matrix, err := env.Latency.Matrix(pairs)
	if err != nil {
		return nil, nil, fmt.Errorf("latency: %w", err)
	}
	return matrix, m, nil
}

// tunnelIfaces is the tunnel model m of t as package wan needs it: each
// tunnel's sites and the interface t's tunnel kind names it by.
func tunnelIfaces(t *topology.Topology, env *Env, m *tunnel.Model) ([]wan.TunnelIface, error) {
	kind, err := env.tunnelKind(t)
	if err != nil {
		return nil, err
	}
	out := make([]wan.TunnelIface, len(m.Tunnels))
	for i, tn := range m.Tunnels {
		out[i] = wan.TunnelIface{Interface: kind.Interface(tn.Index), Sites: [2]string{tn.Ends[0].Site, tn.Ends[1].Site}}
	}
	return out, nil
}

// LatencyFor returns the one-way delay site's router adds to what it sends
// to each peer site, rounded to whole milliseconds (at least 1), as
// vyos.Router.Latency takes it. Nil when there is nothing to emulate, or
// when a relay carries the latency (Env.TunnelRemotes).
func LatencyFor(t *topology.Topology, env *Env, site string) (map[string]time.Duration, error) {
	matrix, ifaces, err := emulated(t, env)
	if err != nil || matrix == nil {
		return nil, err
	}
	egress, err := wan.EgressFor(site, ifaces, matrix)
	if err != nil {
		return nil, err
	}
	peerOf := map[string]string{} // by interface
	for _, ti := range ifaces {
		switch site {
		case ti.Sites[0]:
			peerOf[ti.Interface] = ti.Sites[1]
		case ti.Sites[1]:
			peerOf[ti.Interface] = ti.Sites[0]
		}
	}
	out := map[string]time.Duration{}
	for _, e := range egress {
		if peer, ok := peerOf[e.Interface]; ok {
			out[peer] = max(e.Shape.Delay.Round(time.Millisecond), time.Millisecond)
		}
	}
	return out, nil
}

func wanSteps(t *topology.Topology, env *Env) ([]plan.Node, error) {
	matrix, ifaces, err := emulated(t, env)
	if err != nil || matrix == nil {
		return nil, err
	}
	var nodes []plan.Node
	for _, s := range t.Sites {
		if s.Router.Kind != topology.RouterLinux {
			continue
		}
		egress, err := wan.EgressFor(s.Name, ifaces, matrix)
		if err != nil {
			return nil, fmt.Errorf("router %q: %w", s.Router.Name, err)
		}
		if len(egress) == 0 {
			continue
		}
		router := s.Router.Name
		nodes = append(nodes, plan.Node{
			ID:     WANNetemID(router),
			Target: fmt.Sprintf("netem on router %s (%d tunnels)", router, len(egress)),
			Deps:   []string{topology.RouterID(router)},
			Step: plan.Funcs{
				InspectFunc: func(ctx context.Context) (plan.Change, error) {
					r, err := env.Dial(ctx, router)
					if err != nil {
						return plan.Change{}, fmt.Errorf("router %q: %w", router, err)
					}
					change, reasons, err := wan.InspectLinuxNetem(ctx, r, egress)
					if err != nil {
						return plan.Change{}, err
					}
					if len(change) == 0 {
						return plan.Change{Action: plan.NoOp, Reason: "netem as wanted"}, nil
					}
					return plan.Change{Action: plan.Update, Reason: strings.Join(reasons, "; ")}, nil
				},
				ApplyFunc: func(ctx context.Context, _ plan.Change) error {
					r, err := env.Dial(ctx, router)
					if err != nil {
						return fmt.Errorf("router %q: %w", router, err)
					}
					return wan.ApplyLinuxNetem(ctx, r, egress)
				},
			},
		})
	}
	return nodes, nil
}

// renderWAN shows a Linux router's netem commands. A VyOS router's
// network-emulator policies are part of the routers layer's set commands.
func renderWAN(t *topology.Topology, env *Env, machine string) ([]Artifact, error) {
	matrix, ifaces, err := emulated(t, env)
	if err != nil || matrix == nil {
		return nil, err
	}
	for _, s := range t.Sites {
		if s.Router.Name != machine || s.Router.Kind != topology.RouterLinux {
			continue
		}
		egress, err := wan.EgressFor(s.Name, ifaces, matrix)
		if err != nil {
			return nil, err
		}
		script, err := wan.LinuxNetem(egress)
		if err != nil {
			return nil, err
		}
		return []Artifact{{Machine: machine, Layer: WAN, Title: "netem egress policies (tc)", Content: script.String()}}, nil
	}
	return nil, nil
}

// RelayEnd names one end of a tunnel: the tunnel's index and the site
// whose router is at that end.
type RelayEnd = tunnel.EndRef

// relayed reports whether the tunnels cross a relay that carries the
// latency (Env.TunnelRemotes): then routers shape nothing themselves.
// emulated returns the latency the routers themselves must add, with the
// tunnel interfaces it goes on: none when a relay carries it or there is
// nothing to emulate.
func emulated(t *topology.Topology, env *Env) ([]wan.Entry, []wan.TunnelIface, error) {
	if env.relayed() {
		return nil, nil, nil
	}
	matrix, m, err := LatencyMatrix(t, env)
	if err != nil || matrix == nil {
		return nil, nil, err
	}
	ifaces, err := tunnelIfaces(t, env, m)
	if err != nil {
		return nil, nil, err
	}
	return matrix, ifaces, nil
}

func (env *Env) relayed() bool { return len(env.TunnelRemotes) > 0 }

// RelayPlan lays out the lab's user-space WAN (package wan) for t: one
// relay path per tunnel, listening on bind (an address of the machine that
// runs the relay, on the underlay) from basePort on, and for each tunnel
// end the relay face that its remote must be instead of the peer's
// WAN address. Nil when there is nothing to emulate.
func RelayPlan(t *topology.Topology, env *Env, bind netip.Addr, basePort uint16) ([]wan.PathConfig, map[RelayEnd]netip.AddrPort, error) {
	matrix, m, err := LatencyMatrix(t, env)
	if err != nil || matrix == nil {
		return nil, nil, err
	}
	links := map[wan.Pair]wan.Link{}
	for _, e := range matrix {
		links[e.Pair] = e.Link
	}
	var tunnels []wan.Tunnel
	indexOf := map[string]int{} // by pair name, as PlanRelay names paths
	for _, tn := range m.Tunnels {
		p := wan.NewPair(tn.Ends[0].Site, tn.Ends[1].Site)
		a, b := tn.Ends[0], tn.Ends[1]
		if a.Site != p.A {
			a, b = b, a
		}
		tunnels = append(tunnels, wan.Tunnel{Pair: p, Link: links[p],
			A: netip.AddrPortFrom(a.WAN, tn.Port), B: netip.AddrPortFrom(b.WAN, tn.Port)})
		indexOf[p.String()] = tn.Index
	}
	paths, err := wan.PlanRelay(bind, basePort, tunnels, 1)
	if err != nil {
		return nil, nil, err
	}
	faces := map[RelayEnd]netip.AddrPort{}
	for _, tn := range tunnels {
		for _, p := range paths {
			if p.Name == tn.Pair.String() {
				i := indexOf[p.Name]
				faces[RelayEnd{Tunnel: i, Site: tn.Pair.A}] = p.ListenA
				faces[RelayEnd{Tunnel: i, Site: tn.Pair.B}] = p.ListenB
			}
		}
	}
	return paths, faces, nil
}

package layer

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/planetstage/planetstage/haproxy"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// lbLayer puts HAProxy on the host with role load-balancer, in front of
// every control plane's API server. Its one step, LoadBalancerID(lb), runs
// before kubeadm init (the cluster layer depends on it: kubeadm's
// controlPlaneEndpoint is the load balancer). Adding or removing a control
// plane changes the rendered config, so the step's Inspect reports an
// update and Apply reloads HAProxy with the new server list.
var lbLayer = Layer{
	Name:    LB,
	Steps:   lbSteps,
	Destroy: lbDestroy,
	Render:  lbRender,
}

// lbPlan is the load balancer a topology asks for; ok is false when there
// is none (no cluster, or a single control plane without a load balancer).
func lbPlan(t *topology.Topology) (lb topology.Machine, cfg haproxy.Config, ok bool, err error) {
	if t.Cluster == nil {
		return topology.Machine{}, haproxy.Config{}, false, nil
	}
	lbs := t.HostsWithRole(topology.RoleLoadBalancer)
	if len(lbs) == 0 {
		return topology.Machine{}, haproxy.Config{}, false, nil
	}
	lb = lbs[0]
	port := t.Cluster.APIPort
	if port == 0 {
		port = topology.DefaultAPIPort
	}
	var servers []haproxy.Server
	for _, m := range t.HostsWithRole(topology.RoleControlPlane) {
		servers = append(servers, haproxy.Server{Name: m.Name, Address: netip.AddrPortFrom(m.Address, uint16(port))})
	}
	// The health check verifies nothing about the certificate ("verify
	// none"): the cluster CA does not exist when the load balancer must
	// come up, before kubeadm init, and it never reaches the LB host. The
	// check still asks each API server whether it is ready; client TLS
	// passes through and is verified end to end by the clients.
	cfg, err = haproxy.KubeAPIServer(haproxy.KubeAPIOptions{
		Bind:    netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(port)),
		Servers: servers,
	})
	if err != nil {
		return topology.Machine{}, haproxy.Config{}, false, fmt.Errorf("load balancer %s: %w", lb.Name, err)
	}
	return lb, cfg, true, nil
}

func lbSteps(t *topology.Topology, env *Env) ([]plan.Node, error) {
	lb, cfg, ok, err := lbPlan(t)
	if err != nil || !ok {
		return nil, err
	}
	deps := topology.MachineUpIDs(t, lb.Name)
	if t.VPN != nil {
		// The site's router is the host's gateway, which apt needs.
		deps = append(deps, topology.RouterID(lb.Site.Router.Name))
	}
	svc := lbService(env, lb.Name)
	return []plan.Node{{
		ID:     topology.LoadBalancerID(lb.Name),
		Target: fmt.Sprintf("haproxy on %s (%d control planes at :%d)", lb.Name, len(cfg.Backends[0].Servers), t.Cluster.APIPort),
		Deps:   deps,
		Step: plan.Funcs{
			InspectFunc: func(ctx context.Context) (plan.Change, error) {
				if plan.Pending(ctx) {
					return plan.Change{Action: plan.Create, Reason: "configure once its machine and network are up"}, nil
				}
				s, err := svc(ctx)
				if err != nil {
					return plan.Change{}, err
				}
				return s.Inspect(ctx, cfg)
			},
			ApplyFunc: func(ctx context.Context, _ plan.Change) error {
				s, err := svc(ctx)
				if err != nil {
					return err
				}
				return s.Apply(ctx, cfg)
			},
		},
	}}, nil
}

func lbDestroy(t *topology.Topology, env *Env) ([]plan.Node, error) {
	lb, _, ok, err := lbPlan(t)
	if err != nil || !ok {
		return nil, err
	}
	svc := lbService(env, lb.Name)
	return []plan.Node{{
		ID:     topology.LoadBalancerID(lb.Name) + "/remove",
		Target: "haproxy on " + lb.Name,
		Step: plan.Funcs{
			InspectFunc: func(ctx context.Context) (plan.Change, error) {
				s, err := svc(ctx)
				if err != nil {
					return plan.Change{}, err
				}
				return s.InspectRemove(ctx)
			},
			ApplyFunc: func(ctx context.Context, _ plan.Change) error {
				s, err := svc(ctx)
				if err != nil {
					return err
				}
				return s.Remove(ctx)
			},
		},
	}}, nil
}

func lbRender(t *topology.Topology, _ *Env, machine string) ([]Artifact, error) {
	lb, cfg, ok, err := lbPlan(t)
	if err != nil || !ok || lb.Name != machine {
		return nil, err
	}
	text, err := haproxy.Render(cfg)
	if err != nil {
		return nil, err
	}
	return []Artifact{{Title: haproxy.DefaultConfigPath, Content: string(text)}}, nil
}

// lbService dials the load balancer when a step runs, not when the plan
// is built, so building a plan touches nothing.
func lbService(env *Env, machine string) func(ctx context.Context) (*haproxy.Service, error) {
	return func(ctx context.Context) (*haproxy.Service, error) {
		if env.Dial == nil {
			return nil, fmt.Errorf("load balancer %s: no way to reach it (Env.Dial is nil)", machine)
		}
		r, err := env.Dial(ctx, machine)
		if err != nil {
			return nil, fmt.Errorf("dial: %w", err)
		}
		return &haproxy.Service{Runner: r, Log: env.logger().With("layer", "lb", "host", machine)}, nil
	}
}

package layer

import (
	"context"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strings"

	"github.com/planetstage/planetstage/kubeadm"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/topology"
)

// clusterLayer bootstraps the kubeadm HA cluster over the topology's hosts:
// shared PKI, init on the first control plane, control-plane joins one at a
// time, worker joins in parallel, the pod network, readiness; and the
// removal of nodes that left the topology.
var clusterLayer = Layer{
	Name:    Cluster,
	Steps:   clusterSteps,
	Destroy: clusterDestroy,
	Render:  clusterRender,
}

// Step IDs of the cluster layer.
func clusterCertsID() string           { return "cluster/certs" }
func clusterInitID(host string) string { return "cluster/init/" + host }
func clusterJoinID(host string) string { return "cluster/join/" + host }

// ClusterReadyID is the step after which every node of the cluster is
// Ready: what a deploy or a benchmark of the cluster depends on.
func ClusterReadyID() string { return "cluster/ready" }

// kubeadmCluster translates the topology into the kubeadm package's plain
// input: the load balancer (or, with one master and none, the master) is
// the control-plane endpoint; masters and workers in file order.
func kubeadmCluster(t *topology.Topology) (*kubeadm.Cluster, error) {
	c := t.Cluster
	masters, workers := t.HostsWithRole(topology.RoleControlPlane), t.HostsWithRole(topology.RoleWorker)
	if len(masters) == 0 {
		return nil, fmt.Errorf("cluster: no host has role control-plane")
	}
	endpoint := masters[0].Address
	if lbs := t.HostsWithRole(topology.RoleLoadBalancer); len(lbs) > 0 {
		endpoint = lbs[0].Address
	}
	kc := &kubeadm.Cluster{
		Name:              t.Name,
		KubernetesVersion: c.Kubernetes,
		Endpoint:          netip.AddrPortFrom(endpoint, uint16(c.APIPort)),
		PodSubnet:         c.PodSubnet,
		ServiceSubnet:     c.ServiceSubnet,
	}
	for _, m := range masters {
		kc.ControlPlanes = append(kc.ControlPlanes, kubeadm.Node{Name: m.Name, Address: m.Address})
	}
	for _, w := range workers {
		kc.Workers = append(kc.Workers, kubeadm.Node{Name: w.Name, Address: w.Address})
	}
	if err := kc.Validate(); err != nil {
		return nil, err
	}
	return kc, nil
}

// clusterCNI picks the pod network from cluster.cni: empty or "vxlan" is the
// default (kubeadm.VXLAN), "none" leaves it to the user, anything else is a
// manifest file applied with kubectl.
func clusterCNI(t *topology.Topology) (kubeadm.CNI, error) {
	switch name := t.Cluster.CNI; name {
	case "", topology.CNIVXLAN:
		return kubeadm.VXLAN{}, nil
	case topology.CNINone:
		return nil, nil
	default:
		manifest, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("cluster.cni: %q is neither \"vxlan\", \"none\" nor a readable manifest file: %w", name, err)
		}
		return kubeadm.Manifest{CNIName: name, YAML: manifest}, nil
	}
}

// ClusterBootstrapper returns the kubeadm flow for t's cluster, acting
// through env: what `stage deploy` uses to reach the cluster from one point.
func ClusterBootstrapper(t *topology.Topology, env *Env) (*kubeadm.Bootstrapper, error) {
	if t.Cluster == nil {
		return nil, fmt.Errorf("topology %s has no cluster", t.Name)
	}
	t, err := t.Resolve()
	if err != nil {
		return nil, err
	}
	return bootstrapper(t, env)
}

func bootstrapper(t *topology.Topology, env *Env) (*kubeadm.Bootstrapper, error) {
	kc, err := kubeadmCluster(t)
	if err != nil {
		return nil, err
	}
	if env.Kubeadm != nil {
		env.Kubeadm(kc)
		if err := kc.Validate(); err != nil {
			return nil, err
		}
	}
	var store secret.Store = emptyStore{}
	if env.State != nil {
		store = env.State
	}
	return &kubeadm.Bootstrapper{Cluster: kc, Store: store, Dial: env.Dial, Log: env.logger()}, nil
}

// emptyStore stands in for a missing state directory when rendering: it
// holds nothing and refuses writes.
type emptyStore struct{}

func (emptyStore) Read(name string) ([]byte, error) {
	return nil, fmt.Errorf("state: %s: %w", name, fs.ErrNotExist)
}

func (emptyStore) Write(name string, _ []byte, _ bool) error {
	return fmt.Errorf("state: %s: no state directory", name)
}

// nodeDone is the Inspect of an init or join step: no-op once the node's
// marker says kubeadm succeeded there.
func nodeDone(env *Env, host, action string) func(ctx context.Context) (plan.Change, error) {
	return func(ctx context.Context) (plan.Change, error) {
		if plan.Pending(ctx) {
			return plan.Change{Action: plan.Create, Reason: action}, nil
		}
		r, err := env.Dial(ctx, host)
		if err != nil {
			return plan.Change{}, fmt.Errorf("host %q: %w", host, err)
		}
		done, err := kubeadm.Done(ctx, r)
		if err != nil || done {
			return plan.Change{Action: plan.NoOp, Reason: "already in the cluster"}, err
		}
		return plan.Change{Action: plan.Create, Reason: action}, nil
	}
}

func clusterSteps(t *topology.Topology, env *Env) ([]plan.Node, error) {
	if t.Cluster == nil {
		return nil, nil
	}
	b, err := bootstrapper(t, env)
	if err != nil {
		return nil, err
	}
	cni, err := clusterCNI(t)
	if err != nil {
		return nil, err
	}
	kc := b.Cluster
	var lbIDs []string
	for _, lb := range t.HostsWithRole(topology.RoleLoadBalancer) {
		lbIDs = append(lbIDs, topology.LoadBalancerID(lb.Name))
	}

	nodes := []plan.Node{{
		ID: clusterCertsID(), Target: "cluster PKI in the state directory",
		Step: plan.Funcs{
			InspectFunc: func(context.Context) (plan.Change, error) {
				if _, err := kubeadm.LoadPKI(b.Store); err == nil {
					return plan.Change{Action: plan.NoOp, Reason: "CAs exist"}, nil
				}
				return plan.Change{Action: plan.Create, Reason: "generate cluster, front-proxy and etcd CAs and the service-account key"}, nil
			},
			ApplyFunc: func(context.Context, plan.Change) error { _, err := b.Certs(); return err },
		},
	}}

	first := kc.FirstControlPlane().Name
	deps := func(host string, extra ...string) []string {
		d := append([]string{clusterCertsID()}, topology.MachineUpIDs(t, host)...)
		d = append(d, lbIDs...)
		// A joining node reaches the control plane through the tunnels
		// between its site and the first master's.
		d = append(d, topology.PathIDs(t, host, first)...)
		return append(d, extra...)
	}
	nodes = append(nodes, plan.Node{
		ID: clusterInitID(first), Target: "node " + first,
		// The first master needs only its own site, but the load balancer
		// must be up: controlPlaneEndpoint points at it.
		Deps: append(append([]string{clusterCertsID()}, topology.MachineUpIDs(t, first)...), lbIDs...),
		Step: plan.Funcs{
			InspectFunc: nodeDone(env, first, "kubeadm init, the first control plane"),
			ApplyFunc:   func(ctx context.Context, _ plan.Change) error { return b.Init(ctx) },
		},
	})
	joinIDs := []string{}
	prev := clusterInitID(first)
	for _, cp := range kc.ControlPlanes[1:] {
		// Each control plane waits for the previous one: joins that add
		// etcd members go one at a time.
		nodes = append(nodes, joinStep(env, b, cp.Name, "kubeadm join as a control plane", deps(cp.Name, clusterInitID(first), prev)))
		prev = clusterJoinID(cp.Name)
		joinIDs = append(joinIDs, prev)
	}
	for _, w := range kc.Workers {
		nodes = append(nodes, joinStep(env, b, w.Name, "kubeadm join as a worker", deps(w.Name, clusterInitID(first))))
		joinIDs = append(joinIDs, clusterJoinID(w.Name))
	}

	departed, err := b.Departed()
	if err != nil {
		return nil, err
	}
	var removeIDs []string
	for _, m := range departed {
		id := "cluster/remove/" + m.Name
		removeIDs = append(removeIDs, id)
		nodes = append(nodes, plan.Node{
			ID: id, Target: "node " + m.Name + " (left the topology)", Deps: []string{clusterInitID(first)},
			Step: plan.Funcs{
				InspectFunc: func(context.Context) (plan.Change, error) {
					return plan.Change{Action: plan.Delete, Reason: "drain, reset and delete node " + m.Name}, nil
				},
				ApplyFunc: func(ctx context.Context, _ plan.Change) error { return b.Remove(ctx, m) },
			},
		})
	}

	readyDeps := append(append([]string{clusterInitID(first)}, joinIDs...), removeIDs...)
	if cni != nil {
		nodes = append(nodes, plan.Node{
			ID: "cluster/cni", Target: "pod network " + cni.Name(),
			Deps: append([]string{clusterInitID(first)}, joinIDs...),
			Step: plan.Funcs{
				InspectFunc: func(ctx context.Context) (plan.Change, error) {
					if plan.Pending(ctx) {
						return plan.Change{Action: plan.Update, Reason: "install " + cni.Name() + " on every node"}, nil
					}
					why, err := cni.Check(ctx, b)
					if err != nil || why == "" {
						return plan.Change{Action: plan.NoOp, Reason: cni.Name() + " up to date"}, err
					}
					return plan.Change{Action: plan.Update, Reason: why}, nil
				},
				ApplyFunc: func(ctx context.Context, _ plan.Change) error { return b.InstallCNI(ctx, cni) },
			},
		})
		readyDeps = append(readyDeps, "cluster/cni")
	}
	nodes = append(nodes, plan.Node{
		ID: ClusterReadyID(), Target: fmt.Sprintf("readiness of %d nodes", len(kc.Nodes())), Deps: readyDeps,
		Step: plan.Funcs{
			InspectFunc: func(ctx context.Context) (plan.Change, error) {
				if plan.Pending(ctx) {
					return plan.Change{Action: plan.Update, Reason: "wait until every node is Ready"}, nil
				}
				r, err := env.Dial(ctx, first)
				if err != nil {
					return plan.Change{}, fmt.Errorf("host %q: %w", first, err)
				}
				readiness, err := b.NodeReadiness(ctx, r)
				if err != nil {
					return plan.Change{}, err
				}
				if bad := kc.NotReady(readiness); len(bad) > 0 {
					return plan.Change{Action: plan.Update, Reason: "wait for " + strings.Join(bad, ", ") + " to be Ready"}, nil
				}
				return plan.Change{Action: plan.NoOp, Reason: "every node Ready"}, nil
			},
			ApplyFunc: func(ctx context.Context, _ plan.Change) error { return b.WaitReady(ctx) },
		},
	})
	return nodes, nil
}

func joinStep(env *Env, b *kubeadm.Bootstrapper, host, action string, deps []string) plan.Node {
	return plan.Node{
		ID: clusterJoinID(host), Target: "node " + host, Deps: deps,
		Step: plan.Funcs{
			InspectFunc: nodeDone(env, host, action),
			ApplyFunc:   func(ctx context.Context, _ plan.Change) error { return b.Join(ctx, host) },
		},
	}
}

// clusterDestroy resets every node that kubeadm set up: workers first, then
// the control planes one at a time in reverse join order.
func clusterDestroy(t *topology.Topology, env *Env) ([]plan.Node, error) {
	if t.Cluster == nil {
		return nil, nil
	}
	b, err := bootstrapper(t, env)
	if err != nil {
		return nil, err
	}
	reset := func(host string, deps []string) plan.Node {
		return plan.Node{
			ID: "cluster/reset/" + host, Target: "node " + host, Deps: deps,
			Step: plan.Funcs{
				InspectFunc: func(ctx context.Context) (plan.Change, error) {
					r, err := env.Dial(ctx, host)
					if err != nil {
						return plan.Change{}, fmt.Errorf("host %q: %w", host, err)
					}
					done, err := kubeadm.Done(ctx, r)
					if err != nil || !done {
						return plan.Change{Action: plan.NoOp, Reason: "not in a cluster"}, err
					}
					return plan.Change{Action: plan.Delete, Reason: "kubeadm reset -f"}, nil
				},
				ApplyFunc: func(ctx context.Context, _ plan.Change) error { return b.Reset(ctx, host) },
			},
		}
	}
	var nodes []plan.Node
	var workerIDs []string
	for _, w := range b.Cluster.Workers {
		nodes = append(nodes, reset(w.Name, nil))
		workerIDs = append(workerIDs, "cluster/reset/"+w.Name)
	}
	prev := workerIDs
	cps := b.Cluster.ControlPlanes
	for i := len(cps) - 1; i >= 0; i-- {
		nodes = append(nodes, reset(cps[i].Name, prev))
		prev = []string{"cluster/reset/" + cps[i].Name}
	}
	return nodes, nil
}

// clusterRender shows the kubeadm config a cluster node gets, token
// redacted unless env.ShowSecrets.
func clusterRender(t *topology.Topology, env *Env, host string) ([]Artifact, error) {
	if t.Cluster == nil {
		return nil, nil
	}
	b, err := bootstrapper(t, env)
	if err != nil {
		return nil, err
	}
	if _, _, ok := b.Cluster.Node(host); !ok {
		return nil, nil
	}
	cfg, err := b.ShowConfig(host, env.ShowSecrets)
	if err != nil {
		return nil, err
	}
	title := cfg.Path
	if cfg.Note != "" {
		title += " (" + cfg.Note + ")"
	}
	return []Artifact{{Title: title, Content: string(cfg.Content)}}, nil
}

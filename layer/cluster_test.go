package layer

// A SEQUENCE test of the cluster layer: its steps are walked by the real plan
// engine against kubeadmtest.FakeHosts, a FAKE set of machines that records
// commands. Steps of other layers it depends on (load balancer, routers,
// VMs) are recording stubs. It checks the order the plan imposes, not that a
// cluster comes up.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/planetstage/planetstage/kubeadm"
	"github.com/planetstage/planetstage/kubeadm/kubeadmtest"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const thesisYAML = `
apiVersion: planetstage.io/v1alpha1
kind: Topology
name: thesis
hypervisors:
- {name: esxi1, url: "https://10.4.0.13/sdk"}
underlay: {prefix: 10.4.0.0/16, vlan: 0}
sites:
- name: site-a
  vlan: 10
  prefix: 192.168.10.0/24
  hypervisor: esxi1
  router: {name: vyos01, kind: vyos, version: "1.2", wan: 10.4.0.90, lan: 192.168.10.1}
  hosts:
  - {name: lb, address: 192.168.10.253, role: load-balancer}
  - {name: master01, address: 192.168.10.101, role: control-plane}
  - {name: master02, address: 192.168.10.102, role: control-plane}
  - {name: master03, address: 192.168.10.103, role: control-plane}
- name: site-b
  vlan: 20
  prefix: 192.168.20.0/24
  router: {name: vyos02, kind: vyos, version: "1.2", wan: 10.4.0.91, lan: 192.168.20.1}
  hosts:
  - {name: node01, address: 192.168.20.101, role: worker}
  - {name: node02, address: 192.168.20.102, role: worker}
- name: site-c
  vlan: 30
  prefix: 192.168.30.0/24
  router: {name: vyos03, kind: vyos, version: "1.2", wan: 10.4.0.92, lan: 192.168.30.1}
  hosts:
  - {name: node03, address: 192.168.30.101, role: worker}
  - {name: node04, address: 192.168.30.102, role: worker}
vpn: {mode: mesh, transit: 10.255.0.0/16}
cluster: {kubernetes: v1.37.2, podSubnet: 10.244.0.0/16, serviceSubnet: 10.96.0.0/12}
`

// fakeCluster answers kubectl like a cluster whose nodes are all Ready, and
// makes every join take a little while so overlapping joins would show.
type fakeCluster struct {
	mu            sync.Mutex
	cpJoins, max  int
	workerJoins   int
	maxWorkerJoin int
}

func (f *fakeCluster) script(t *topology.Topology) func(host, command string) kubeadmtest.Reply {
	return func(host, command string) kubeadmtest.Reply {
		switch {
		case strings.HasPrefix(command, "kubeadm join"):
			m, _ := t.Machine(host)
			cp := m.Role == topology.RoleControlPlane
			f.mu.Lock()
			if cp {
				f.cpJoins++
				f.max = max(f.max, f.cpJoins)
			} else {
				f.workerJoins++
				f.maxWorkerJoin = max(f.maxWorkerJoin, f.workerJoins)
			}
			f.mu.Unlock()
			// Hold the join until a second worker join is in flight (or
			// 2 s pass): overlap shows deterministically when joins run in
			// parallel, and a serialized plan fails the assertion below.
			for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
				f.mu.Lock()
				overlapped := f.maxWorkerJoin > 1
				f.mu.Unlock()
				if cp || overlapped {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(30 * time.Millisecond)
			f.mu.Lock()
			if cp {
				f.cpJoins--
			} else {
				f.workerJoins--
			}
			f.mu.Unlock()
		case strings.Contains(command, "conditions"), strings.Contains(command, "podCIDR"):
			var b strings.Builder
			for i, m := range append(t.HostsWithRole(topology.RoleControlPlane), t.HostsWithRole(topology.RoleWorker)...) {
				if strings.Contains(command, "podCIDR") {
					fmt.Fprintf(&b, "%s\t10.244.%d.0/24\n", m.Name, i)
				} else {
					fmt.Fprintf(&b, "%s\tTrue\n", m.Name)
				}
			}
			return kubeadmtest.Reply{Stdout: b.String()}
		}
		return kubeadmtest.Reply{}
	}
}

// walkWithStubs walks the cluster steps plus a recording stub for every
// dependency on another layer, and returns the walk's events in order.
func walkWithStubs(t *testing.T, nodes []plan.Node, apply bool) (*plan.Result, []plan.Event) {
	t.Helper()
	g := new(plan.Graph)
	have := map[string]bool{}
	for _, n := range nodes {
		n.Layer = "cluster"
		require.NoError(t, g.Add(n))
		have[n.ID] = true
	}
	for _, n := range nodes {
		for _, d := range n.Deps {
			if have[d] {
				continue
			}
			have[d] = true
			require.False(t, strings.HasPrefix(d, "cluster/"), "dependency %q of %q is missing from the layer", d, n.ID)
			require.NoError(t, g.Add(plan.Node{ID: d, Layer: "stub", Step: plan.Funcs{
				InspectFunc: func(context.Context) (plan.Change, error) { return plan.Change{Action: plan.NoOp}, nil },
			}}))
		}
	}
	var events []plan.Event
	res, err := plan.Walk(context.Background(), g, plan.Options{Apply: apply, Hook: plan.HookFunc(func(e plan.Event) {
		events = append(events, e)
	})})
	require.NoError(t, err)
	return res, events
}

func eventIndex(events []plan.Event, kind plan.EventKind, id string) int {
	return slices.IndexFunc(events, func(e plan.Event) bool { return e.Kind == kind && e.Step.ID == id })
}

func TestClusterLayerSequence(t *testing.T) {
	t.Parallel()
	top, err := topology.Parse("thesis.yaml", []byte(thesisYAML))
	require.NoError(t, err)
	fc := &fakeCluster{}
	hosts := kubeadmtest.NewFakeHosts(fc.script(top))
	st, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)
	env := &Env{State: st, Dial: hosts.Dial}

	nodes, err := clusterLayer.Steps(top, env)
	require.NoError(t, err)
	byID := map[string]plan.Node{}
	for _, n := range nodes {
		byID[n.ID] = n
	}
	assert.Subset(t, byID["cluster/init/master01"].Deps, []string{"cluster/certs", "lb/haproxy/lb", "machines/up/master01"})
	assert.Contains(t, byID["cluster/join/master03"].Deps, "cluster/join/master02", "control-plane joins serialized")
	assert.Subset(t, byID["cluster/join/node03"].Deps, []string{"cluster/init/master01", "lb/haproxy/lb", "routers/vyos01", "routers/vyos03"})
	assert.NotContains(t, byID["cluster/join/node03"].Deps, "routers/vyos02", "only the routers between node03 and the masters")
	assert.NotContains(t, byID["cluster/join/node03"].Deps, "cluster/join/master03", "workers need not wait for other masters")

	res, events := walkWithStubs(t, nodes, true)
	started := func(id string) int { return eventIndex(events, plan.Started, id) }
	finished := func(id string) int { return eventIndex(events, plan.Finished, id) }
	assert.Less(t, finished("lb/haproxy/lb"), started("cluster/init/master01"), "LB before init")
	for _, n := range []string{"master02", "master03", "node01", "node02", "node03", "node04"} {
		assert.Less(t, finished("cluster/init/master01"), started("cluster/join/"+n), "init before join of %s", n)
	}
	for _, n := range []string{"node01", "node02", "node03", "node04"} {
		assert.Less(t, finished("routers/vyos02"), started("cluster/join/"+n), "tunnels before workers")
	}
	assert.Less(t, finished("cluster/join/master02"), started("cluster/join/master03"))
	assert.Equal(t, 1, fc.max, "control-plane joins never overlap")
	assert.Greater(t, fc.maxWorkerJoin, 1, "workers join in parallel")
	assert.Less(t, finished("cluster/join/node04"), started("cluster/cni"))
	assert.Less(t, finished("cluster/cni"), started(ClusterReadyID()))
	for _, s := range res.Steps {
		if strings.HasPrefix(s.ID, "cluster/join/") {
			assert.GreaterOrEqual(t, s.Duration, 30*time.Millisecond, "step %s is timed", s.ID)
		}
	}
	// kubeadm ran where it should: init once on master01, joins on the rest.
	cmds := hosts.Commands()
	assert.Equal(t, 1, countPrefix(cmds, "master01 kubeadm init"))
	assert.Equal(t, 0, countPrefix(cmds, "lb kubeadm"))

	// A second walk over the unchanged topology changes nothing.
	nodes, err = clusterLayer.Steps(top, env)
	require.NoError(t, err)
	res, _ = walkWithStubs(t, nodes, false)
	for _, s := range res.Steps {
		assert.Equal(t, plan.NoOp, s.Action, "%s: %s", s.ID, s.Reason)
	}

	// node04 leaves the topology: it is drained, reset and deleted.
	top.Sites[2].Hosts = top.Sites[2].Hosts[:1]
	nodes, err = clusterLayer.Steps(top, env)
	require.NoError(t, err)
	i := slices.IndexFunc(nodes, func(n plan.Node) bool { return n.ID == "cluster/remove/node04" })
	require.GreaterOrEqual(t, i, 0)
	assert.Contains(t, nodes[slices.IndexFunc(nodes, func(n plan.Node) bool { return n.ID == ClusterReadyID() })].Deps, "cluster/remove/node04")
	res, _ = walkWithStubs(t, nodes, true)
	require.NoError(t, res.Err())
	assert.Equal(t, 1, countPrefix(hosts.Commands(), "node04 kubeadm reset -f"))
}

func countPrefix(cmds []string, prefix string) int {
	n := 0
	for _, c := range cmds {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func TestClusterRenderRedactsToken(t *testing.T) {
	t.Parallel()
	top, err := topology.Parse("thesis.yaml", []byte(thesisYAML))
	require.NoError(t, err)
	st, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)
	hosts := kubeadmtest.NewFakeHosts((&fakeCluster{}).script(top))
	env := &Env{State: st, Dial: hosts.Dial}

	before, err := Render(top, env, "node01", "cluster")
	require.NoError(t, err)
	require.Len(t, before, 1)
	assert.Contains(t, before[0].Title, "placeholder", "no CA yet: the hash is a placeholder, and says so")

	b, err := bootstrapper(top, env)
	require.NoError(t, err)
	require.NoError(t, b.Init(context.Background()))
	p, err := kubeadm.LoadPKI(st)
	require.NoError(t, err)
	hash, err := p.CACertHash()
	require.NoError(t, err)
	token, err := st.Read("cluster/token.json")
	require.NoError(t, err)

	for _, host := range []string{"master01", "master02", "node01"} {
		arts, err := Render(top, env, host, "cluster")
		require.NoError(t, err, host)
		require.Len(t, arts, 1, host)
		assert.Contains(t, arts[0].Content, "192.168.10.253:6443", host)
		assert.Contains(t, arts[0].Content, kubeadm.RedactedToken, host)
		assert.NotContains(t, arts[0].Title, "placeholder", host)
		tokValue := strings.Split(string(token), `"`)[3]
		assert.NotContains(t, arts[0].Content, tokValue[7:], "%s: token must be redacted", host)
		if host != "master01" {
			assert.Contains(t, arts[0].Content, hash, host)
		}
	}
	arts, err := Render(top, env, "lb", "cluster")
	require.NoError(t, err)
	assert.Empty(t, arts, "the load balancer is not a cluster node")

	env.ShowSecrets = true
	arts, err = Render(top, env, "node01", "cluster")
	require.NoError(t, err)
	assert.NotContains(t, arts[0].Content, kubeadm.RedactedToken)
}

func TestClusterLayerRefusesOldKubernetes(t *testing.T) {
	t.Parallel()
	top, err := topology.Parse("thesis.yaml", []byte(strings.Replace(thesisYAML, "v1.37.2", "v1.28.4", 1)))
	require.NoError(t, err)
	st, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)
	_, err = clusterLayer.Steps(top, &Env{State: st})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "v1beta3")
}

func TestClusterEnvKubeadmHook(t *testing.T) {
	t.Parallel()
	top, err := topology.Parse("thesis.yaml", []byte(thesisYAML))
	require.NoError(t, err)
	st, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)
	env := &Env{State: st, Kubeadm: func(c *kubeadm.Cluster) { c.ImageRepository = "registry.local/k8s" }}
	arts, err := Render(top, env, "master01", "cluster")
	require.NoError(t, err)
	require.Len(t, arts, 1)
	assert.Contains(t, arts[0].Content, "imageRepository: registry.local/k8s")

	env.Kubeadm = func(c *kubeadm.Cluster) { c.CRISocket = "/run/containerd.sock" }
	_, err = clusterLayer.Steps(top, env)
	assert.ErrorContains(t, err, "criSocket", "what the hook sets is validated too")
}

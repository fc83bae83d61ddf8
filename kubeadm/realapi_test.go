package kubeadm

// A test against a real Kubernetes control plane on loopback: etcd,
// kube-apiserver, kube-controller-manager (deployment and replicaset
// controllers only) and kube-scheduler, started from the binaries in
// $PLANETSTAGE_K8S_BIN. There are no nodes and no kubelet, so no pod ever
// runs: it checks what the API server makes of the Deployment manifest, that
// kubectl's jsonpath reads real objects as the code expects, and the error
// DeployDeployment gives for pods the scheduler cannot place.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/planetstage/planetstage/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// pathRunner runs commands locally with dir first in PATH, where a kubectl
// wrapper points every call at the test's API server.
type pathRunner struct {
	remote.Local
	dir string
}

func (r *pathRunner) Run(ctx context.Context, cmd remote.Cmd) error {
	cmd.Command = "PATH=" + r.dir + ":$PATH; export PATH; " + cmd.Command
	return r.Local.Run(ctx, cmd)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startProcess runs bin with args until the test ends; its output goes to
// a log file in dir, shown when the test fails.
func startProcess(t *testing.T, dir, bin string, args ...string) {
	t.Helper()
	logPath := filepath.Join(dir, filepath.Base(bin)+".log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("%s log (tail):\n%s", filepath.Base(bin), tail(string(out), 3000))
		}
	})
}

// startControlPlane starts the components and returns a Bootstrapper whose
// "control planes" are this machine, reaching the API server through the
// kubectl wrapper.
func startControlPlane(t *testing.T) *Bootstrapper {
	t.Helper()
	bin := os.Getenv("PLANETSTAGE_K8S_BIN")
	if bin == "" {
		t.Skip("no Kubernetes binaries: set PLANETSTAGE_K8S_BIN to a directory with etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kubectl (v1.37)")
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			t.Skipf("PLANETSTAGE_K8S_BIN=%s has no %s", bin, b)
		}
	}
	dir := t.TempDir()
	etcdClient, etcdPeer, apiPort := freePort(t), freePort(t), freePort(t)
	startProcess(t, dir, filepath.Join(bin, "etcd"), "--name", "test", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdClient),
		"--advertise-client-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdClient),
		"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdPeer),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", etcdPeer),
		"--initial-cluster", fmt.Sprintf("test=http://127.0.0.1:%d", etcdPeer), "--log-level", "error")

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	saKey, saPub := filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	require.NoError(t, os.WriteFile(saKey, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600))
	require.NoError(t, os.WriteFile(saPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644))
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	token := hex.EncodeToString(secret)
	tokens := filepath.Join(dir, "tokens.csv")
	require.NoError(t, os.WriteFile(tokens, []byte(token+",admin,admin,system:masters\n"), 0o600))
	kubeconfig := filepath.Join(dir, "kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "https://127.0.0.1:%d", insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: %q}}]
contexts: [{name: test, context: {cluster: test, user: admin}}]
current-context: test
`, apiPort, token), 0o600))

	startProcess(t, dir, filepath.Join(bin, "kube-apiserver"), "--etcd-servers", fmt.Sprintf("http://127.0.0.1:%d", etcdClient),
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", fmt.Sprint(apiPort),
		"--cert-dir", filepath.Join(dir, "apiserver"), "--token-auth-file", tokens, "--authorization-mode", "AlwaysAllow",
		"--service-account-issuer", "https://kubernetes.default.svc", "--service-account-key-file", saPub,
		"--service-account-signing-key-file", saKey, "--service-cluster-ip-range", "10.96.0.0/12",
		"--endpoint-reconciler-type", "none", // the reconciler refuses a loopback address
		// It taints every new node not-ready until a kubelet says otherwise;
		// the node objects here have no kubelet.
		"--disable-admission-plugins", "TaintNodesByCondition")

	wrapper := filepath.Join(dir, "path")
	require.NoError(t, os.MkdirAll(wrapper, 0o755))
	// pflag keeps the last --kubeconfig: the wrapper's wins over admin.conf.
	require.NoError(t, os.WriteFile(filepath.Join(wrapper, "kubectl"),
		fmt.Appendf(nil, "#!/bin/sh\nexec %s \"$@\" --kubeconfig %s\n", filepath.Join(bin, "kubectl"), kubeconfig), 0o755))
	b := &Bootstrapper{Cluster: thesisCluster(), PollInterval: 500 * time.Millisecond,
		Dial: func(_ context.Context, node string) (remote.Runner, error) {
			return &pathRunner{Local: remote.Local{Name: node}, dir: wrapper}, nil
		}}
	deadline := time.Now().Add(90 * time.Second)
	for {
		err := b.APIReachable(context.Background(), "master01")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			require.NoError(t, err, "API server not ready after 90 s")
		}
		time.Sleep(time.Second)
	}
	// These give up on an API server that is not up within seconds.
	startProcess(t, dir, filepath.Join(bin, "kube-controller-manager"), "--kubeconfig", kubeconfig,
		"--controllers", "deployment,replicaset,serviceaccount", "--leader-elect=false", "--bind-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(freePort(t)), "--cert-dir", filepath.Join(dir, "cm"))
	startProcess(t, dir, filepath.Join(bin, "kube-scheduler"), "--kubeconfig", kubeconfig, "--leader-elect=false",
		"--bind-address", "127.0.0.1", "--secure-port", fmt.Sprint(freePort(t)), "--cert-dir", filepath.Join(dir, "scheduler"))
	return b
}

func TestRealAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Kubernetes control plane (about a minute)")
	}
	b := startControlPlane(t)
	ctx := context.Background()

	// A join token made without kubeadm and without a command line that
	// carries it: the API server takes the bootstrap-token Secret.
	b.Store, b.Now = newMemStore(), func() time.Time { return time.Now() }
	tok, err := b.joinToken(ctx)
	require.NoError(t, err)
	got, _, err := b.onControlPlane(ctx, kubectl("-n kube-system get secret bootstrap-token-"+tok.Value[:6]+
		" -o jsonpath={.type},{.data.token-secret}"), nil)
	require.NoError(t, err)
	typ, secretB64, _ := strings.Cut(got, ",")
	assert.Equal(t, "bootstrap.kubernetes.io/token", typ)
	assert.Equal(t, base64.StdEncoding.EncodeToString([]byte(tok.Value[7:])), secretB64)

	// The first master "stopped": kubectl moves to the next.
	dial := b.Dial
	b.Dial = func(ctx context.Context, node string) (remote.Runner, error) {
		if node == "master01" {
			return nil, fmt.Errorf("connect: connection refused")
		}
		return dial(ctx, node)
	}
	via, err := b.APIReachableAny(ctx)
	require.NoError(t, err)
	assert.Equal(t, "master02", via)

	// No node yet: the error names the pods with the scheduler's reason.
	d := thesisNginx()
	d.Timeout = 10 * time.Second
	pods, err := b.DeployDeployment(ctx, d)
	require.Error(t, err)
	t.Logf("no nodes: %v", err)
	require.Len(t, pods, 4, "the controllers created four pods")
	assert.Contains(t, err.Error(), `deployment "nginx": 0 of 4 replicas Ready after 10s`)
	assert.Regexp(t, `nginx-[a-z0-9]+-[a-z0-9]+ not scheduled \(Pending: .*node`, err.Error())
	for _, p := range pods {
		assert.Equal(t, "Pending", p.Phase, p.Pod)
		assert.Empty(t, p.Node, p.Pod)
		assert.NotEmpty(t, p.Reason, "%s: the scheduler's message", p.Pod)
	}

	// The pending pods go first: the scheduler would place them as the
	// nodes arrive, one informer event at a time, and with only node01
	// known a spread of one domain lets all four land there (CI saw it).
	// Unbound pods are deleted at once, without a kubelet.
	_, _, err = b.onControlPlane(ctx, kubectl("delete deployment nginx"), nil)
	require.NoError(t, err)
	_, _, err = b.onControlPlane(ctx, kubectl("delete replicasets,pods -l app=nginx --wait=true"), nil)
	require.NoError(t, err)

	// The thesis's nodes as API objects (no kubelet behind them): the
	// scheduler binds the pods, one per worker, none on a tainted master.
	_, _, err = b.onControlPlane(ctx, kubectl("apply -f -"), nodeObjects(t, b.Cluster))
	require.NoError(t, err)
	pods, err = b.DeployDeployment(ctx, d)
	require.Error(t, err, "no kubelet: bound but never Ready")
	t.Logf("4 replicas: %v", err)
	assert.Equal(t, []string{"node01", "node02", "node03", "node04"}, podNodes(pods), "one replica per worker")

	// A fifth replica still fits: with nodeTaintsPolicy Honor the masters
	// are not counted as empty domains.
	d.Replicas = 5
	pods, err = b.DeployDeployment(ctx, d)
	require.Error(t, err)
	assert.Len(t, pods, 5)
	for _, p := range pods {
		assert.NotEmpty(t, p.Node, "every replica bound: %v", p)
	}
	assert.Equal(t, []string{"node01", "node02", "node03", "node04"}, podNodes(pods))

	// The control: the same spread with Kubernetes' default policy (Ignore)
	// leaves the fifth replica Pending, its reason the spread constraint.
	ignore := d
	ignore.Name = "nginx-ignore"
	manifest, err := ignore.Manifest()
	require.NoError(t, err)
	var variant appsv1.Deployment
	require.NoError(t, json.Unmarshal(manifest, &variant))
	variant.Spec.Template.Spec.TopologySpreadConstraints[0].NodeTaintsPolicy = nil
	manifest, err = json.Marshal(variant)
	require.NoError(t, err)
	_, _, err = b.onControlPlane(ctx, kubectl("apply -f -"), manifest)
	require.NoError(t, err)
	deadline := time.Now().Add(20 * time.Second)
	for {
		pods, err = b.deploymentPods(ctx, ignore)
		require.NoError(t, err)
		if len(pods) == 5 && len(podNodes(pods)) == 4 && pods[0].Reason != "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	require.Len(t, pods, 5)
	assert.Len(t, podNodes(pods), 4, "%v", pods)
	assert.Empty(t, pods[0].Node, "sorted first: the unbound pod")
	assert.Contains(t, pods[0].Reason, "topology spread", "%v", pods[0])
	t.Logf("fifth replica with nodeTaintsPolicy Ignore: %s", pods[0].Reason)

	// The API server kept every field of the spread (none dropped by a
	// disabled feature gate) and the probe.
	out, _, err := b.Kubectl(ctx, "get", "deployment", "nginx", "-o", "json")
	require.NoError(t, err)
	var dep appsv1.Deployment
	require.NoError(t, json.Unmarshal([]byte(out), &dep))
	require.Len(t, dep.Spec.Template.Spec.TopologySpreadConstraints, 1)
	tsc := dep.Spec.Template.Spec.TopologySpreadConstraints[0]
	assert.Equal(t, corev1.DoNotSchedule, tsc.WhenUnsatisfiable)
	require.NotNil(t, tsc.NodeTaintsPolicy)
	assert.Equal(t, corev1.NodeInclusionPolicyHonor, *tsc.NodeTaintsPolicy)
	assert.Equal(t, []string{"pod-template-hash"}, tsc.MatchLabelKeys)
	c := dep.Spec.Template.Spec.Containers[0]
	assert.Equal(t, corev1.PullNever, c.ImagePullPolicy)
	require.NotNil(t, c.ReadinessProbe)
	assert.Equal(t, "/", c.ReadinessProbe.HTTPGet.Path)

	// The API server validates: a spread with maxSkew 0 is refused.
	manifest, err = d.Manifest()
	require.NoError(t, err)
	broken := strings.Replace(string(manifest), `"maxSkew": 1`, `"maxSkew": 0`, 1)
	require.NotEqual(t, string(manifest), broken)
	_, _, err = b.onControlPlane(ctx, kubectl("apply -f -"), []byte(broken))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "maxSkew")

	// A pod that is not running cannot be proxied to; the error says which.
	_, err = b.ProxyGet(ctx, "default", pods[1].Pod, d.Port, "/")
	require.Error(t, err)
	assert.Contains(t, err.Error(), pods[1].Pod)
	results, err := b.ProxyEachPod(ctx, d, "/")
	require.NoError(t, err)
	for _, r := range results {
		assert.ErrorContains(t, r.Err, "not running (phase Pending)")
	}
}

// nodeObjects is a v1 List of the cluster's nodes as the kubelet would
// register them: hostname label, room for pods, masters tainted.
func nodeObjects(t *testing.T, c *Cluster) []byte {
	t.Helper()
	list := corev1.List{TypeMeta: metav1.TypeMeta{Kind: "List", APIVersion: "v1"}}
	for _, n := range c.Nodes() {
		node := corev1.Node{TypeMeta: metav1.TypeMeta{Kind: "Node", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: map[string]string{"kubernetes.io/hostname": n.Name}},
			Status: corev1.NodeStatus{
				Capacity:    corev1.ResourceList{"pods": resource.MustParse("110"), "cpu": resource.MustParse("2"), "memory": resource.MustParse("4Gi")},
				Allocatable: corev1.ResourceList{"pods": resource.MustParse("110"), "cpu": resource.MustParse("2"), "memory": resource.MustParse("4Gi")},
			}}
		if _, cp, _ := c.Node(n.Name); cp {
			node.Spec.Taints = []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}
		}
		raw, err := json.Marshal(node)
		require.NoError(t, err)
		list.Items = append(list.Items, runtime.RawExtension{Raw: raw})
	}
	raw, err := json.Marshal(list)
	require.NoError(t, err)
	return raw
}

// podNodes is the sorted nodes pods are bound to, once each.
func podNodes(pods []PodReport) []string {
	var nodes []string
	for _, p := range pods {
		if p.Node != "" && !slices.Contains(nodes, p.Node) {
			nodes = append(nodes, p.Node)
		}
	}
	slices.Sort(nodes)
	return nodes
}

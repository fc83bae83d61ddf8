package stagecli

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/planetstage/planetstage/lab/k8snode"
)

// k8sTopology is the smallest cluster across a tunnel: a load balancer and
// a control plane in one site, a worker in the other, on prefixes no other
// test uses.
const k8sTopology = `apiVersion: planetstage.io/v1alpha1
kind: Topology
name: stagetest-k8s
underlay: {prefix: 10.31.0.0/16}
sites:
- name: a
  vlan: 10
  prefix: 172.31.10.0/24
  router: {name: gw1, kind: linux, wan: 10.31.0.90, lan: 172.31.10.1}
  hosts:
  - {name: lb, address: 172.31.10.253, role: load-balancer}
  - {name: cp1, address: 172.31.10.101, role: control-plane}
- name: b
  vlan: 20
  prefix: 172.31.20.0/24
  router: {name: gw2, kind: linux, wan: 10.31.0.91, lan: 172.31.20.1}
  hosts:
  - {name: w1, address: 172.31.20.101, role: worker}
vpn: {mode: mesh, auth: tls, transit: 10.255.0.0/16, port: 1194}
cluster: {kubernetes: v1.37.2, podSubnet: 10.244.0.0/16, serviceSubnet: 10.96.0.0/12, apiPort: 6443}
`

// TestClusterFromTheCommandLine is the cluster the way a user drives it
// from the shell: apply --lab with the cluster layer named (the node image
// from the cache), a plan that finds nothing to change, a spread
// Deployment of the web image, destroy. It needs the node image already
// built: CI builds it before the tests and sets PLANETSTAGE_NODE_IMAGE
// (stage node-image --env); without it the test skips rather than start
// a build of tens of minutes.
func TestClusterFromTheCommandLine(t *testing.T) {
	if os.Getenv("PLANETSTAGE_NODE_IMAGE") == "" {
		t.Skip("needs the Kubernetes node image: eval \"$(go run ./examples/stage node-image --env)\" first (CI does)")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "k8s.yaml")
	require.NoError(t, os.WriteFile(file, []byte(k8sTopology), 0o600))
	flags := []string{"-f", file, "--state", filepath.Join(dir, "state"), "--lab-state", filepath.Join(dir, "lab"), "--lab"}
	t.Cleanup(func() { stage(t, append([]string{"destroy"}, flags...)...) })

	code, out, errOut := stage(t, append([]string{"apply", "--layers", "routers,lb,cluster"}, flags...)...)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "Kubernetes node image planetstage/k8snode:")
	assert.Contains(t, out, " (cached) (", "the node image was built before the tests")
	assert.Contains(t, out, "kubeadm init, the first control plane")
	assert.Contains(t, out, "kubeadm join as a worker")

	code, out, errOut = stage(t, append([]string{"plan", "--layers", "routers,lb,cluster"}, flags...)...)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "0 created, 0 updated", "a second look finds the cluster as applied")
	assert.Contains(t, out, "every node Ready")

	code, out, errOut = stage(t, append([]string{"deploy", "--image", k8snode.WebImage, "--replicas", "1", "--pull", "Never"}, flags...)...)
	require.Equal(t, 0, code, out+errOut)
	assert.Regexp(t, `✓ w1 +web-\S+ +10\.244\.\d+\.\d+ +Running`, out, "the one replica runs on the only worker, across the tunnel")
	assert.Contains(t, out, "web runs on 1 nodes")

	// kubectl get nodes from this machine: the kubeconfig stage writes
	// reaches the API through the load balancer's container.
	kubeconfig := filepath.Join(dir, "kubeconfig")
	code, out, errOut = stage(t, append([]string{"kubeconfig", "--kubeconfig", kubeconfig}, flags...)...)
	require.Equal(t, 0, code, out+errOut)
	assert.Equal(t, []string{"cp1", "w1"}, nodeNames(t, kubeconfig))

	// Adding a node from the command line: the host added to the file,
	// the same apply again. The running lab takes it in and the cluster
	// layer joins it.
	grown := strings.Replace(k8sTopology, "  - {name: w1, address: 172.31.20.101, role: worker}\n",
		"  - {name: w1, address: 172.31.20.101, role: worker}\n  - {name: w2, address: 172.31.20.102, role: worker}\n", 1)
	require.NotEqual(t, k8sTopology, grown)
	require.NoError(t, os.WriteFile(file, []byte(grown), 0o600))
	code, out, errOut = stage(t, append([]string{"apply", "--layers", "routers,lb,cluster"}, flags...)...)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "kubeadm join as a worker")
	assert.Equal(t, []string{"cp1", "w1", "w2"}, nodeNames(t, kubeconfig))

	code, out, errOut = stage(t, append([]string{"destroy"}, flags...)...)
	require.Equal(t, 0, code, out+errOut)
}

// nodeNames lists the cluster's nodes as kubectl get nodes would, with the
// kubeconfig file's current context.
func nodeNames(t *testing.T, kubeconfig string) []string {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	require.NoError(t, err)
	client, err := rest.HTTPClientFor(cfg)
	require.NoError(t, err)
	resp, err := client.Get(cfg.Host + "/api/v1/nodes")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var list struct {
		Items []struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal(body, &list))
	var names []string
	for _, n := range list.Items {
		names = append(names, n.Metadata.Name)
	}
	sort.Strings(names)
	return names
}

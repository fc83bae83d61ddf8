package k8snode

import (
	"fmt"
	"os/exec"
	"strings"
)

var lookPath = exec.LookPath

// haproxyConfig balances the API servers (reference Appendix A).
func haproxyConfig(nodes []testNode) string {
	var b strings.Builder
	fmt.Fprintf(&b, `global
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  retries 3
  option redispatch
  timeout client 1h
  timeout server 1h
frontend control-plane
  bind %s:6443
  default_backend kube-apiservers
backend kube-apiservers
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 2s fall 2 rise 1 check check-ssl verify none
`, lbIP)
	for _, n := range nodes {
		if n.role == "control-plane" {
			fmt.Fprintf(&b, "  server %s %s:6443\n", n.name, n.ip)
		}
	}
	return b.String()
}

// clusterDocs are the documents every node's kubeadm config shares: the
// kubelet settings this Docker host needs (cgroup v1, no swap rules, no
// disk-pressure evictions) and kube-proxy without the global conntrack sysctl.
const clusterDocs = `---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: k8snode-test
kubernetesVersion: %s
controlPlaneEndpoint: "%s:6443"
networking: {podSubnet: %s, serviceSubnet: 10.96.0.0/12}
apiServer: {certSANs: ["%s", "127.0.0.1", "localhost", "lb"]}
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
imageGCHighThresholdPercent: 100
evictionHard: {nodefs.available: "0%%", nodefs.inodesFree: "0%%", imagefs.available: "0%%"}
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
conntrack: {maxPerCore: 0}
`

func nodeRegistration(n testNode) string {
	return fmt.Sprintf(`nodeRegistration:
  name: %s
  criSocket: unix:///run/containerd/containerd.sock
  imagePullPolicy: Never
  kubeletExtraArgs: [{name: node-ip, value: %s}]
`, n.name, n.ip)
}

func initConfig(n testNode, token, certKey string) string {
	return fmt.Sprintf(`apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens: [{token: "%s", ttl: "1h0m0s"}]
certificateKey: "%s"
localAPIEndpoint: {advertiseAddress: %s, bindPort: 6443}
`, token, certKey, n.ip) + nodeRegistration(n) + fmt.Sprintf(clusterDocs, DefaultVersions.Kubernetes, lbIP, podSubnet, lbIP)
}

// joinConfig joins a worker, or a control plane when certKey is set.
func joinConfig(n testNode, token, caHash, certKey string) string {
	s := fmt.Sprintf(`apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: "%s:6443"
    token: "%s"
    caCertHashes: ["%s"]
`, lbIP, token, caHash) + nodeRegistration(n)
	if certKey != "" {
		s += fmt.Sprintf(`controlPlane:
  localAPIEndpoint: {advertiseAddress: %s, bindPort: 6443}
  certificateKey: "%s"
`, n.ip, certKey)
	}
	return s
}

// cniConfig is the node's bridge + host-local conflist on its podCIDR.
func cniConfig(subnet string) string {
	return fmt.Sprintf(`{"cniVersion":"1.0.0","name":"k8snode","plugins":[
 {"type":"bridge","bridge":"cni0","isGateway":true,"ipMasq":true,"hairpinMode":true,
  "ipam":{"type":"host-local","ranges":[[{"subnet":"%s"}]],"routes":[{"dst":"0.0.0.0/0"}]}},
 {"type":"portmap","capabilities":{"portMappings":true}}]}
`, subnet)
}

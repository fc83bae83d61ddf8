package k8snode

import (
	"slices"

	"github.com/planetstage/planetstage/kubeadm"
)

// Tune adapts a kubeadm cluster to nodes that are k8snode containers on one
// shared Docker host (a layer.Env's Kubeadm hook; the lab sets it):
//
//   - kubeadm's SystemVerification and Swap preflight checks are ignored:
//     they judge the host's kernel (cgroup v1, swap), which a container
//     cannot change;
//   - the kubelet uses the cgroupfs driver (there is no systemd), accepts
//     cgroup v1 (failCgroupV1: false) and swap, and does not evict on the
//     shared disk's pressure;
//   - kube-proxy leaves the host-wide conntrack table size alone
//     (maxPerCore: 0): /proc/sys/net/netfilter/nf_conntrack_max is not per
//     network namespace, and a node must not retune the host.
//
// Calling Tune twice adds nothing twice.
func Tune(c *kubeadm.Cluster) {
	for _, check := range []string{"SystemVerification", "Swap"} {
		if !slices.Contains(c.IgnorePreflightErrors, check) {
			c.IgnorePreflightErrors = append(c.IgnorePreflightErrors, check)
		}
	}
	for _, doc := range []string{KubeletConfiguration, KubeProxyConfiguration} {
		if !slices.Contains(c.ExtraDocuments, doc) {
			c.ExtraDocuments = append(c.ExtraDocuments, doc)
		}
	}
}

// KubeletConfiguration is the kubelet's configuration on a k8snode container
// (see Tune); kubeadm init uploads it, so joining nodes get it too.
const KubeletConfiguration = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
imageGCHighThresholdPercent: 100
evictionHard: {nodefs.available: "0%", nodefs.inodesFree: "0%", imagefs.available: "0%"}
`

// KubeProxyConfiguration is kube-proxy's configuration on k8snode containers
// (see Tune): iptables mode, no IPVS, conntrack sysctls left alone.
const KubeProxyConfiguration = `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
conntrack: {maxPerCore: 0}
`

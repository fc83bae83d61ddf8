package kubeadm_test

import (
	"fmt"
	"net/netip"

	"github.com/planetstage/planetstage/kubeadm"
)

// A worker's JoinConfiguration for a cluster behind a load balancer. In a
// real run the Bootstrapper fills in a fresh token and the hash of the CA it
// generated; here both are placeholders.
func Example() {
	c := &kubeadm.Cluster{
		Name:              "thesis",
		KubernetesVersion: "v1.37.2",
		Endpoint:          netip.MustParseAddrPort("192.168.10.253:6443"),
		PodSubnet:         netip.MustParsePrefix("10.244.0.0/16"),
		ServiceSubnet:     netip.MustParsePrefix("10.96.0.0/12"),
		ControlPlanes:     []kubeadm.Node{{Name: "master01", Address: netip.MustParseAddr("192.168.10.101")}},
		Workers:           []kubeadm.Node{{Name: "node01", Address: netip.MustParseAddr("192.168.20.101")}},
	}
	secrets := kubeadm.Secrets{
		Token:  kubeadm.Token{Value: kubeadm.RedactedToken},
		CAHash: "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	}
	cfg, err := c.JoinConfig("node01", secrets)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(cfg))
	// Output:
	// apiVersion: kubeadm.k8s.io/v1beta4
	// discovery:
	//   bootstrapToken:
	//     apiServerEndpoint: 192.168.10.253:6443
	//     caCertHashes:
	//     - sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
	//     token: xxxxxx.xxxxxxxxxxxxxxxx
	// kind: JoinConfiguration
	// nodeRegistration:
	//   criSocket: unix:///run/containerd/containerd.sock
	//   kubeletExtraArgs:
	//   - name: node-ip
	//     value: 192.168.20.101
	//   name: node01
	//   taints: null
}

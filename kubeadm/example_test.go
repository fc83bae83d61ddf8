package kubeadm_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/planetstage/planetstage/kubeadm"
	"github.com/planetstage/planetstage/kubeadm/kubeadmtest"
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

// The thesis's evaluation from one point: an HTTP server spread one replica
// per worker, each replica reached through the API server's pod proxy, and
// the API still answering through the load balancer with the first master
// stopped. The machines here are kubeadmtest's FAKE hosts answering kubectl
// from a script; against a real cluster, Dial connects over SSH.
func ExampleBootstrapper_DeployDeployment() {
	pods := "web-a\tnode01\t10.244.1.2\tRunning\tTrue\t\t\n" +
		"web-b\tnode02\t10.244.2.2\tRunning\tTrue\t\t\n"
	hosts := kubeadmtest.NewFakeHosts(func(host, command string) kubeadmtest.Reply {
		switch {
		case strings.Contains(command, "get deployment"):
			return kubeadmtest.Reply{Stdout: "1\t1\t2\t2\t2"} // generation, observed, replicas, updated, ready
		case strings.Contains(command, "get pods"):
			return kubeadmtest.Reply{Stdout: pods}
		case strings.Contains(command, "/pods/web-a:"):
			return kubeadmtest.Reply{Stdout: "hello from node01"}
		case strings.Contains(command, "/pods/web-b:"):
			return kubeadmtest.Reply{Stdout: "hello from node02"}
		case strings.Contains(command, "/readyz"):
			return kubeadmtest.Reply{Stdout: "ok"}
		}
		return kubeadmtest.Reply{}
	})
	b := &kubeadm.Bootstrapper{
		Cluster: &kubeadm.Cluster{
			ControlPlanes: []kubeadm.Node{{Name: "master01"}, {Name: "master02"}},
			Workers:       []kubeadm.Node{{Name: "node01"}, {Name: "node02"}},
		},
		Dial:         hosts.Dial,
		PollInterval: time.Millisecond,
	}
	ctx := context.Background()
	web := kubeadm.Deployment{Name: "web", Image: "planetstage.local/httpd:1", Replicas: 2, Port: 8080, PullPolicy: kubeadm.PullNever}
	reports, err := b.DeployDeployment(ctx, web)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("ready on", kubeadm.ReadyNodes(reports))
	results, err := b.ProxyEachPod(ctx, web, "/")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		fmt.Printf("%s on %s (%s): %s %v\n", r.Pod, r.Node, r.PodIP, r.Body, r.Err)
	}
	hosts.SetDown("master01", true)
	via, err := b.APIReachableAny(ctx)
	fmt.Println("API reachable via", via, err)
	// Output:
	// ready on [node01 node02]
	// web-a on node01 (10.244.1.2): hello from node01 <nil>
	// web-b on node02 (10.244.2.2): hello from node02 <nil>
	// API reachable via master02 <nil>
}

package haproxy_test

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/planetstage/planetstage/haproxy"
)

// The thesis's load balancer: three masters behind lb:6443. A program
// would then hand the config to a haproxy.Service with a remote.Runner for
// the lb host: svc.Inspect(ctx, cfg) to see what would change, and
// svc.Apply(ctx, cfg) to install and reload it.
func ExampleKubeAPIServer() {
	cfg, err := haproxy.KubeAPIServer(haproxy.KubeAPIOptions{
		Servers: []haproxy.Server{
			{Name: "master01", Address: netip.MustParseAddrPort("192.168.10.101:6443")},
			{Name: "master02", Address: netip.MustParseAddrPort("192.168.10.102:6443")},
			{Name: "master03", Address: netip.MustParseAddrPort("192.168.10.103:6443")},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	text, err := haproxy.Render(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, backend, _ := strings.Cut(string(text), "\nbackend kube-apiserver\n")
	fmt.Print("backend kube-apiserver\n" + backend)
	// Output:
	// backend kube-apiserver
	//     mode tcp
	//     balance roundrobin
	//     option httpchk
	//     http-check connect ssl
	//     http-check send meth GET uri /readyz
	//     http-check expect status 200
	//     default-server check inter 2s rise 2 fall 3 check-ssl verify none
	//     server master01 192.168.10.101:6443 check
	//     server master02 192.168.10.102:6443 check
	//     server master03 192.168.10.103:6443 check
}

package tunnel_test

import (
	"fmt"
	"net/netip"

	"github.com/planetstage/planetstage/tunnel"
)

// The thesis's three sites, joined by a mesh: the tunnels and site-a's routes.
func Example() {
	var sites []tunnel.Site
	for i, name := range []string{"site-a", "site-b", "site-c"} {
		lan := netip.AddrFrom4([4]byte{192, 168, byte(10 * (i + 1)), 1})
		sites = append(sites, tunnel.Site{
			Name: name, Router: fmt.Sprintf("vyos%02d", i+1),
			WAN: netip.AddrFrom4([4]byte{10, 4, 0, byte(90 + i)}), LAN: lan, Prefix: netip.PrefixFrom(lan, 24).Masked(),
		})
	}
	m, err := tunnel.New(tunnel.Spec{Sites: sites, Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: 1194})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range m.Tunnels {
		fmt.Printf("tunnel %d %s udp/%d %s=%s listens, %s=%s initiates\n", t.Index, t.Name(), t.Port,
			t.Ends[0].Router, t.Ends[0].Address, t.Ends[1].Router, t.Ends[1].Address)
	}
	for _, r := range m.Routes("site-a") {
		fmt.Printf("site-a: %s via %s through tunnel %d\n", r.Prefix, r.Via, r.Tunnel)
	}
	// Output:
	// tunnel 0 vyos01_vyos02 udp/1194 vyos01=10.255.0.1 listens, vyos02=10.255.0.2 initiates
	// tunnel 1 vyos01_vyos03 udp/1195 vyos01=10.255.0.5 listens, vyos03=10.255.0.6 initiates
	// tunnel 2 vyos02_vyos03 udp/1196 vyos02=10.255.0.9 listens, vyos03=10.255.0.10 initiates
	// site-a: 192.168.20.0/24 via 10.255.0.2 through tunnel 0
	// site-a: 192.168.30.0/24 via 10.255.0.6 through tunnel 1
}

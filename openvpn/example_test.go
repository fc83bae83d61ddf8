package openvpn_test

import (
	"fmt"
	"net/netip"

	"github.com/planetstage/planetstage/openvpn"
)

// The thesis's three sites, joined by a mesh: the tunnels and site-a's routes.
func Example() {
	var sites []openvpn.Site
	for i, name := range []string{"site-a", "site-b", "site-c"} {
		lan := netip.AddrFrom4([4]byte{192, 168, byte(10 * (i + 1)), 1})
		sites = append(sites, openvpn.Site{
			Name: name, Router: fmt.Sprintf("vyos%02d", i+1),
			WAN: netip.AddrFrom4([4]byte{10, 4, 0, byte(90 + i)}), LAN: lan, Prefix: netip.PrefixFrom(lan, 24).Masked(),
		})
	}
	m, err := openvpn.New(openvpn.Spec{Sites: sites, Mode: openvpn.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: 1194})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range m.Tunnels {
		fmt.Printf("%s %s udp/%d %s=%s %s=%s\n", t.Name(), t.Interface, t.Port,
			t.Ends[0].Router, t.Ends[0].Address, t.Ends[1].Router, t.Ends[1].Address)
	}
	for _, r := range m.Routes("site-a") {
		fmt.Printf("site-a: %s via %s dev %s\n", r.Prefix, r.Via, r.Interface)
	}
	// Output:
	// vyos01-vyos02 vtun0 udp/1194 vyos01=10.255.0.1 vyos02=10.255.0.2
	// vyos01-vyos03 vtun1 udp/1195 vyos01=10.255.0.5 vyos03=10.255.0.6
	// vyos02-vyos03 vtun2 udp/1196 vyos02=10.255.0.9 vyos03=10.255.0.10
	// site-a: 192.168.20.0/24 via 10.255.0.2 dev vtun0
	// site-a: 192.168.30.0/24 via 10.255.0.6 dev vtun1
}

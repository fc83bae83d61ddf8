package openvpn_test

import (
	"fmt"
	"net/netip"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/tunnel"
)

// The thesis's three sites, joined by a mesh of OpenVPN tunnels: each
// tunnel's interface and its ends' TLS roles, and site-a's routes.
func Example() {
	var sites []tunnel.Site
	for i, name := range []string{"site-a", "site-b", "site-c"} {
		lan := netip.AddrFrom4([4]byte{192, 168, byte(10 * (i + 1)), 1})
		sites = append(sites, tunnel.Site{
			Name: name, Router: fmt.Sprintf("vyos%02d", i+1),
			WAN: netip.AddrFrom4([4]byte{10, 4, 0, byte(90 + i)}), LAN: lan, Prefix: netip.PrefixFrom(lan, 24).Masked(),
		})
	}
	tunnels, err := tunnel.New(tunnel.Spec{Sites: sites, Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: openvpn.DefaultPort})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := openvpn.New(tunnels, openvpn.Options{Auth: openvpn.TLS})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range m.Tunnels {
		a, b := t.Ends[0], t.Ends[1]
		fmt.Printf("%s %s udp/%d %s=%s (%s) %s=%s (%s)\n", t.Name(), openvpn.Interface(t.Index), t.Port,
			a.Router, a.Address, openvpn.RoleOf(t, a.Site), b.Router, b.Address, openvpn.RoleOf(t, b.Site))
	}
	for _, r := range m.Routes("site-a") {
		fmt.Printf("site-a: %s via %s dev %s\n", r.Prefix, r.Via, openvpn.Interface(r.Tunnel))
	}
	// Output:
	// vyos01_vyos02 vtun0 udp/1194 vyos01=10.255.0.1 (passive) vyos02=10.255.0.2 (active)
	// vyos01_vyos03 vtun1 udp/1195 vyos01=10.255.0.5 (passive) vyos03=10.255.0.6 (active)
	// vyos02_vyos03 vtun2 udp/1196 vyos02=10.255.0.9 (passive) vyos03=10.255.0.10 (active)
	// site-a: 192.168.20.0/24 via 10.255.0.2 dev vtun0
	// site-a: 192.168.30.0/24 via 10.255.0.6 dev vtun1
}

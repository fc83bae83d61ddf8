package wireguard_test

import (
	"fmt"
	"net/netip"

	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/wireguard"
)

// Two sites joined by WireGuard: site-a's end of the tunnel, as "wg
// setconf" reads it. (Fixed keys, for a stable output; LoadKeys makes
// real ones and keeps them in a secret.Store.)
func Example() {
	var sites []tunnel.Site
	for i, name := range []string{"site-a", "site-b"} {
		lan := netip.AddrFrom4([4]byte{192, 168, byte(10 * (i + 1)), 1})
		sites = append(sites, tunnel.Site{
			Name: name, Router: fmt.Sprintf("vyos%02d", i+1),
			WAN: netip.AddrFrom4([4]byte{10, 4, 0, byte(90 + i)}), LAN: lan, Prefix: netip.PrefixFrom(lan, 24).Masked(),
		})
	}
	tm, err := tunnel.New(tunnel.Spec{Sites: sites, Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: wireguard.DefaultPort})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := wireguard.New(tm, wireguard.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	keys := &wireguard.Keys{Private: map[string]wireguard.Key{"vyos01": {1: 1, 31: 64}, "vyos02": {1: 2, 31: 64}}}
	conf, err := wireguard.Config(m, keys, m.Tunnels[0], "site-a")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(conf)
	// Output:
	// # planetstage: tunnel wg0, vyos01 (site-a) <-> vyos02 (site-b)
	// [Interface]
	// PrivateKey = AAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEA=
	// ListenPort = 51820
	//
	// [Peer]
	// # vyos02
	// PublicKey = rTPV4sH+pXCPcgPXWaOCbz33sf5z/H10k76moE+10VQ=
	// AllowedIPs = 10.255.0.2/32,192.168.20.0/24
	// Endpoint = 10.4.0.91:51820
	// PersistentKeepalive = 25
}

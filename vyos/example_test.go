package vyos_test

import (
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/vyos"
)

// The thesis's vyos01 (VyOS 1.2, static keys): its first tunnel and its
// routes as set commands.
func Example() {
	var sites []tunnel.Site
	for i, name := range []string{"site-a", "site-b", "site-c"} {
		lan := netip.AddrFrom4([4]byte{192, 168, byte(10 * (i + 1)), 1})
		sites = append(sites, tunnel.Site{Name: name, Router: fmt.Sprintf("vyos%02d", i+1),
			WAN: netip.AddrFrom4([4]byte{10, 4, 0, byte(90 + i)}), LAN: lan, Prefix: netip.PrefixFrom(lan, 24).Masked()})
	}
	tunnels, err := tunnel.New(tunnel.Spec{Sites: sites, Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: 1194})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := openvpn.New(tunnels, openvpn.Options{Auth: openvpn.StaticKey})
	if err != nil {
		fmt.Println(err)
		return
	}
	state, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(state)
	keys, err := openvpn.LoadKeys(secret.NewDir(state), m) // created once, reused after
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg, err := vyos.Build(vyos.Router{Model: m, Keys: keys, Site: "site-a", Dialect: vyos.V12,
		Underlay: netip.MustParsePrefix("10.4.0.0/16")})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range cfg.Commands {
		// (The key file's name holds a hash of the random key; left out.)
		if s := c.Redacted(); strings.Contains(s, "vtun0") && !strings.Contains(s, "/config/auth/") {
			fmt.Println(s)
		}
	}
	// Output:
	// set interfaces openvpn vtun0 mode site-to-site
	// set interfaces openvpn vtun0 protocol udp
	// set interfaces openvpn vtun0 local-host 10.4.0.90
	// set interfaces openvpn vtun0 local-port 1194
	// set interfaces openvpn vtun0 remote-host 10.4.0.91
	// set interfaces openvpn vtun0 remote-port 1194
	// set interfaces openvpn vtun0 local-address 10.255.0.1
	// set interfaces openvpn vtun0 remote-address 10.255.0.2
	// set interfaces openvpn vtun0 persistent-tunnel
	// set interfaces openvpn vtun0 keep-alive interval 10
	// set interfaces openvpn vtun0 keep-alive failure-count 6
	// set interfaces openvpn vtun0 hash sha256
	// set interfaces openvpn vtun0 encryption aes256
	// set protocols static interface-route 192.168.20.0/24 next-hop-interface vtun0
}

package wan_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/planetstage/planetstage/wan"
)

// Place three sites, resolve their latency matrix, and run one of its
// links as a relay path on loopback.
func Example() {
	model := wan.Model{Sites: []wan.Site{
		{Name: "site-a", City: "Tokyo"},
		{Name: "site-b", City: "Frankfurt"},
		{Name: "site-c", City: "São Paulo"},
	}}
	matrix, err := model.Matrix(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range matrix {
		fmt.Printf("%s: %.0f km, RTT %v\n", e.Pair, e.DistanceKm, e.RTT.Round(time.Millisecond))
	}

	// The relay between two UDP endpoints (OpenVPN peers, in the lab).
	a, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	b, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer a.Close()
	defer b.Close()
	link := wan.Link{RTT: 20 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path, err := wan.ListenPath(ctx, wan.PathConfig{
		Name:    "site-a<->site-b",
		ListenA: netip.MustParseAddrPort("127.0.0.1:0"),
		ListenB: netip.MustParseAddrPort("127.0.0.1:0"),
		PeerA:   a.LocalAddr().(*net.UDPAddr).AddrPort(),
		PeerB:   b.LocalAddr().(*net.UDPAddr).AddrPort(),
		AtoB:    link.OneWay(),
		BtoA:    link.OneWay(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	go path.Run(ctx)

	start := time.Now()
	a.WriteToUDPAddrPort([]byte("hello"), path.AddrA())
	buf := make([]byte, 16)
	n, from, _ := b.ReadFromUDPAddrPort(buf)
	oneWay := time.Since(start)
	fmt.Printf("b got %q from the relay's B side: %v, after at least 10ms: %v\n",
		buf[:n], from == path.AddrB(), oneWay >= 10*time.Millisecond)

	// The same link on a VyOS 1.2 router's tunnel interface.
	side, _ := link.Sides()
	script, _ := wan.VyOSNetem("1.2", []wan.Egress{{Interface: "vtun0", Policy: "WAN-site-b", Shape: side}})
	fmt.Print(script)
	// Output:
	// site-a<->site-b: 9332 km, RTT 140ms
	// site-a<->site-c: 18534 km, RTT 278ms
	// site-b<->site-c: 9829 km, RTT 147ms
	// b got "hello" from the relay's B side: true, after at least 10ms: true
	// set traffic-policy network-emulator WAN-site-b network-delay 10ms
	// set interfaces openvpn vtun0 traffic-policy out WAN-site-b
}

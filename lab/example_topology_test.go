package lab_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"

	"github.com/planetstage/planetstage/lab"
	"github.com/planetstage/planetstage/topology"
)

// The main use: bring a topology up in the lab, apply its plan over SSH as
// on hardware, and check that every machine reaches every other (package
// lab/labtest's Up does the same for a Go test in one call). In a test,
// t.Cleanup(func() { l.Down(ctx) }) takes the place of the defer.
func Example() {
	ctx := context.Background()
	addr, pfx := netip.MustParseAddr, netip.MustParsePrefix
	t := &topology.Topology{
		APIVersion: topology.APIVersion, Kind: topology.Kind, Name: "example",
		Underlay: topology.Underlay{Prefix: pfx("10.24.0.0/16")},
		Sites: []topology.Site{
			{Name: "tokyo", VLAN: 10, Prefix: pfx("172.24.10.0/24"),
				Router: topology.Router{Name: "gw-tokyo", Kind: topology.RouterLinux, WAN: addr("10.24.0.1"), LAN: addr("172.24.10.1")},
				Hosts:  []topology.Host{{Name: "peer1", Address: addr("172.24.10.101"), Role: topology.RoleGeneric}}},
			{Name: "paris", VLAN: 20, Prefix: pfx("172.24.20.0/24"),
				Router: topology.Router{Name: "gw-paris", Kind: topology.RouterLinux, WAN: addr("10.24.0.2"), LAN: addr("172.24.20.1")},
				Hosts:  []topology.Host{{Name: "peer2", Address: addr("172.24.20.101"), Role: topology.RoleGeneric}}},
		},
		VPN: &topology.VPN{Mode: topology.VPNMesh, Transit: pfx("10.255.0.0/16")},
	}
	dir, _ := os.MkdirTemp("", "lab-example-")
	defer os.RemoveAll(dir)

	l, err := lab.Up(ctx, t, lab.Options{StateDir: dir})
	if err != nil {
		fmt.Println("lab up:", err)
		return
	}
	defer l.Down(ctx)
	// Every layer but the cluster; Apply returns once the tunnels carry
	// every pair.
	if _, err := l.Apply(ctx, lab.ApplyOptions{}); err != nil {
		fmt.Println("apply:", err)
		return
	}
	m, err := l.Matrix(ctx)
	if err != nil {
		fmt.Println("matrix:", err)
		return
	}
	fmt.Print(m.Table())
	// Output:
	// from\to    gw-tokyo peer1    gw-paris peer2
	// gw-tokyo   -        o        o        o
	// peer1      o        -        o        o
	// gw-paris   o        o        -        o
	// peer2      o        o        o        -
}

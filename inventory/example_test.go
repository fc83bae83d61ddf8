package inventory_test

import (
	"fmt"
	"os"

	"github.com/planetstage/planetstage/inventory"
	"github.com/planetstage/planetstage/topology"
)

// The thesis testbed's inventory from its topology file alone.
func Example() {
	t, err := topology.Load("testdata/thesis-geo.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	inv, err := inventory.Of(t, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	inv.Machines = inv.Machines[:3] // shorter output
	inv.Tunnels = inv.Tunnels[:1]
	inv.Tunnels[0].RTTMs = 0 // the latency model's numbers may be refined
	if err := inv.WriteTable(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// topology thesis: the model only, from the topology file; no machine was contacted
	//
	// MACHINE   ROLE               SITE    ADDRESS         WAN        HYPERVISOR
	// vyos01    router (vyos 1.2)  site-a  192.168.10.1    10.4.0.90  esxi1
	// lb        load-balancer      site-a  192.168.10.253  -          esxi1
	// master01  control-plane      site-a  192.168.10.101  -          esxi1
	//
	// TUNNEL         PORT  TRANSIT        END A (router, wan, transit)  END B
	// vyos01_vyos02  1194  10.255.0.0/30  vyos01 10.4.0.90 10.255.0.1   vyos02 10.4.0.91 10.255.0.2
}

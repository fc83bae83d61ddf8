package topology_test

import (
	"fmt"
	"net/netip"
	"reflect"

	"github.com/planetstage/planetstage/topology"
)

// A topology built in Go is the same as one loaded from YAML: here the
// thesis testbed of examples/thesis/thesis.yaml.
func Example() {
	fromGo := thesisInGo()
	fromFile, err := topology.Load("testdata/thesis.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(fromGo.Validate() == nil, len(fromGo.Machines()), "machines in", len(fromGo.Sites), "sites")
	fmt.Println("same as the file:", reflect.DeepEqual(fromGo, fromFile))
	for _, p := range fromGo.TunnelPairs() {
		fmt.Println("tunnel", p[0], "<->", p[1])
	}
	// Output:
	// true 11 machines in 3 sites
	// same as the file: true
	// tunnel site-a <-> site-b
	// tunnel site-a <-> site-c
	// tunnel site-b <-> site-c
}

// Validation reports every problem at once, each with its path.
func ExampleTopology_Validate() {
	t := thesisInGo()
	t.Sites[1].VLAN = t.Sites[0].VLAN
	t.Sites[2].Hosts[0].Address = netip.MustParseAddr("192.168.99.1")
	fmt.Println(t.Validate())
	// Output:
	// topology: 2 problems:
	//   sites[1].vlan: VLAN 10 is already used by sites[0].vlan
	//   sites[2].hosts[0].address: 192.168.99.1 is outside the site prefix 192.168.30.0/24
}

func thesisInGo() *topology.Topology {
	addr := netip.MustParseAddr
	prefix := netip.MustParsePrefix
	site := func(name string, vlan int, lan, hypervisor, router, wan string, hosts ...topology.Host) topology.Site {
		p := prefix(lan)
		return topology.Site{
			Name: name, VLAN: vlan, Prefix: p, Hypervisor: hypervisor,
			Router: topology.Router{
				Name: router, Kind: topology.RouterVyOS, Version: "1.2",
				WAN: addr(wan), LAN: p.Addr().Next(),
			},
			Hosts: hosts,
		}
	}
	host := func(name, address, role string) topology.Host {
		return topology.Host{Name: name, Address: addr(address), Role: role}
	}
	t := &topology.Topology{
		Name: "thesis",
		Hypervisors: []topology.Hypervisor{
			{Name: "esxi1", Kind: "esxi", URL: "https://10.4.0.13/sdk", Uplinks: []string{"vmnic1"}, Datastore: "datastore1"},
			{Name: "esxi2", Kind: "esxi", URL: "https://10.4.0.14/sdk", Uplinks: []string{"vmnic1"}, Datastore: "datastore1"},
		},
		Underlay: topology.Underlay{Prefix: prefix("10.4.0.0/16"), VLAN: 0},
		Sites: []topology.Site{
			site("site-a", 10, "192.168.10.0/24", "esxi1", "vyos01", "10.4.0.90",
				host("lb", "192.168.10.253", topology.RoleLoadBalancer),
				host("master01", "192.168.10.101", topology.RoleControlPlane),
				host("master02", "192.168.10.102", topology.RoleControlPlane),
				host("master03", "192.168.10.103", topology.RoleControlPlane)),
			site("site-b", 20, "192.168.20.0/24", "esxi2", "vyos02", "10.4.0.91",
				host("node01", "192.168.20.101", topology.RoleWorker),
				host("node02", "192.168.20.102", topology.RoleWorker)),
			site("site-c", 30, "192.168.30.0/24", "esxi2", "vyos03", "10.4.0.92",
				host("node03", "192.168.30.101", topology.RoleWorker),
				host("node04", "192.168.30.102", topology.RoleWorker)),
		},
		VPN: &topology.VPN{Mode: topology.VPNMesh, Auth: topology.VPNAuthTLS, Transit: prefix("10.255.0.0/16"), Port: 1194},
		Cluster: &topology.Cluster{
			Kubernetes: "v1.37.2", PodSubnet: prefix("10.244.0.0/16"),
			ServiceSubnet: prefix("10.96.0.0/12"), APIPort: 6443,
		},
		SSH: &topology.SSH{User: "root", IdentityFile: "~/.ssh/id_ed25519", KnownHosts: "~/.ssh/known_hosts"},
	}
	t.SetDefaults()
	return t
}

package gossip

import (
	"fmt"
	"net/netip"

	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/wan"
)

// Topology is the smallest testbed the gossip experiment needs: three
// sites in the first three cities of a geo preset of package wan
// ("planet": Tokyo, Frankfurt, São Paulo), named after them, joined by a
// mesh of tunnels; a load balancer and one control plane in the first,
// one worker in each. The last site holds nothing of the control plane,
// so partitioning it leaves the cluster's API up. It uses 10.52.0.0/16
// (underlay, tunnels) and 172.52.0.0/16 (sites).
func Topology(preset string) (*topology.Topology, error) {
	cities, _, err := wan.GeoPresetCities(preset)
	if err != nil {
		return nil, fmt.Errorf("gossip: %w", err)
	}
	if len(cities) < 3 {
		return nil, fmt.Errorf("gossip: geo preset %q has %d cities; the experiment needs three", preset, len(cities))
	}
	addr, pfx := netip.MustParseAddr, netip.MustParsePrefix
	t := &topology.Topology{
		APIVersion: topology.APIVersion, Kind: topology.Kind, Name: "gsp-" + preset,
		Underlay: topology.Underlay{Prefix: pfx("10.52.0.0/24")},
		VPN:      &topology.VPN{Mode: topology.VPNMesh, Auth: topology.VPNAuthTLS, Transit: pfx("10.52.254.0/24"), Port: 1194},
		Cluster: &topology.Cluster{Kubernetes: "v1.37.2", PodSubnet: pfx("10.244.0.0/16"),
			ServiceSubnet: pfx("10.96.0.0/12"), APIPort: 6443},
	}
	for i, city := range cities[:3] {
		n := (i + 1) * 10
		p := pfx(fmt.Sprintf("172.52.%d.0/24", n))
		name := wan.CityLabel(city)
		s := topology.Site{Name: name, VLAN: n, Prefix: p, Location: &topology.Location{City: city},
			Router: topology.Router{Name: "gw-" + name, Kind: topology.RouterLinux, WAN: addr(fmt.Sprintf("10.52.0.%d", 10+i)), LAN: p.Addr().Next()},
			Hosts:  []topology.Host{{Name: "peer-" + name, Address: addr(fmt.Sprintf("172.52.%d.111", n)), Role: topology.RoleWorker}}}
		if i == 0 {
			s.Hosts = append([]topology.Host{
				{Name: "lb", Address: addr(fmt.Sprintf("172.52.%d.253", n)), Role: topology.RoleLoadBalancer},
				{Name: "cp1", Address: addr(fmt.Sprintf("172.52.%d.101", n)), Role: topology.RoleControlPlane},
			}, s.Hosts...)
		}
		t.Sites = append(t.Sites, s)
	}
	t.SetDefaults()
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("gossip: %w", err)
	}
	return t, nil
}

package topology_test

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/topology"
)

var update = flag.Bool("update", false, "rewrite examples/topologies/planet50.yaml from topology.PlanetPreset")

const planet50File = "../examples/topologies/planet50.yaml"

// TestPlanet50File keeps the checked-in planet50.yaml, a file as a user
// would write it by hand, equal to the preset the SDK generates.
func TestPlanet50File(t *testing.T) {
	t.Parallel()
	want, err := topology.PlanetPreset("planet50", topology.PlanetOptions{})
	require.NoError(t, err)
	if *update {
		require.NoError(t, os.WriteFile(planet50File, planetYAML(want), 0o644))
	}
	got, err := topology.Load(planet50File)
	require.NoError(t, err, "go test ./topology -run TestPlanet50File -update rewrites it")
	assert.True(t, reflect.DeepEqual(want, got), "%s differs from topology.PlanetPreset(\"planet50\"); -update rewrites it", planet50File)

	assert.Len(t, got.Sites, 50)
	assert.Len(t, got.Machines(), 100, "a router and a host per site")
	assert.Equal(t, 6*5/2+44, got.TunnelCount(), "the six hubs' mesh and a tunnel per spoke")
	hubs, err := got.Hubs()
	require.NoError(t, err)
	for spoke, hub := range map[string]string{"sydney": "singapore", "buenos-aires": "sao-paulo", "bogota": "new-york", "seattle": "new-york", "moscow": "frankfurt", "seoul": "tokyo", "nairobi": "johannesburg"} {
		assert.Equal(t, hub, hubs[spoke], "the hub nearest %s", spoke)
	}
	assert.Equal(t, []string{"sydney", "singapore", "sao-paulo", "buenos-aires"}, got.SitePath("sydney", "buenos-aires"))
}

func TestPlanetRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		o    topology.PlanetOptions
		want string
	}{
		{topology.PlanetOptions{}, "no cities"},
		{topology.PlanetOptions{Cities: []string{"Atlantis"}}, `cities[0]: unknown city "Atlantis"`},
		{topology.PlanetOptions{Cities: []string{"Tokyo", "tokyo"}}, "cities[1]: Tokyo is already site tokyo"},
		{topology.PlanetOptions{Cities: []string{"Tokyo", "Lima"}, Hubs: []string{"Paris"}}, `hubs[0]: "Paris" is not one of the cities`},
	} {
		_, err := topology.Planet(c.o)
		assert.ErrorContains(t, err, c.want)
	}
}

// planetYAML writes t compactly, one line per router and host.
func planetYAML(t *topology.Topology) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `# %d cities on six continents, one Linux router and one host each, joined
# by regional hubs: the hubs in a full mesh, every other site to the
# nearest hub by great-circle distance. topology.PlanetPreset("planet50")
# generates the same testbed; a test keeps the two equal.
#   go run ./examples/stage apply --lab -f examples/topologies/planet50.yaml
apiVersion: %s
kind: %s
name: %s
underlay: {prefix: %s, vlan: %d}
vpn: {type: %s, mode: %s, hubs: [%s], auth: %s, transit: %s, port: %d}
sites:
`, len(t.Sites), t.APIVersion, t.Kind, t.Name, t.Underlay.Prefix, t.Underlay.VLAN,
		t.VPN.Type, t.VPN.Mode, strings.Join(t.VPN.Hubs, ", "), t.VPN.Auth, t.VPN.Transit, t.VPN.Port)
	for _, s := range t.Sites {
		fmt.Fprintf(&b, "- name: %s\n  location: {city: %q}\n  vlan: %d\n  prefix: %s\n", s.Name, s.Location.City, s.VLAN, s.Prefix)
		fmt.Fprintf(&b, "  router: {name: %s, kind: %s, wan: %s, lan: %s}\n", s.Router.Name, s.Router.Kind, s.Router.WAN, s.Router.LAN)
		b.WriteString("  hosts:\n")
		for _, h := range s.Hosts {
			fmt.Fprintf(&b, "  - {name: %s, address: %s, role: %s}\n", h.Name, h.Address, h.Role)
		}
	}
	return []byte(b.String())
}

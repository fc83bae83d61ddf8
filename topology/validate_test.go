package topology

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func loadThesis(t testing.TB) *Topology {
	t.Helper()
	top, err := Load("testdata/thesis.yaml")
	require.NoError(t, err)
	return top
}

func TestValidateFindsEveryProblemWithItsPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*Topology)
		want   map[string]string // path -> message fragment
	}{
		{"duplicate host name", func(t *Topology) { t.Sites[1].Hosts[1].Name = "node01" },
			map[string]string{"sites[1].hosts[1].name": `duplicate machine name node01 (also sites[1].hosts[0].name)`}},
		{"host named like a router", func(t *Topology) { t.Sites[2].Hosts[0].Name = "vyos01" },
			map[string]string{"sites[2].hosts[0].name": "duplicate machine name vyos01"}},
		{"duplicate site name", func(t *Topology) { t.Sites[2].Name = "site-a" },
			map[string]string{"sites[2].name": "duplicate site name site-a"}},
		{"duplicate VLAN", func(t *Topology) { t.Sites[2].VLAN = 20 },
			map[string]string{"sites[2].vlan": "VLAN 20 is already used by sites[1].vlan"}},
		{"site VLAN same as underlay", func(t *Topology) { t.Sites[0].VLAN = 0 },
			map[string]string{"sites[0].vlan": "already used by underlay.vlan"}},
		{"VLAN out of range", func(t *Topology) { t.Sites[0].VLAN = 4095 },
			map[string]string{"sites[0].vlan": "out of range 0–4094"}},
		{"overlapping sites", func(t *Topology) { t.Sites[1].Prefix = netip.MustParsePrefix("192.168.0.0/16") },
			map[string]string{"sites[0].prefix": "overlaps sites[1].prefix", "sites[2].prefix": "overlaps sites[1].prefix"}},
		{"pod subnet overlaps underlay", func(t *Topology) { t.Cluster.PodSubnet = netip.MustParsePrefix("10.4.128.0/17") },
			map[string]string{"cluster.podSubnet": "overlaps underlay.prefix"}},
		{"transit overlaps service subnet", func(t *Topology) { t.VPN.Transit = netip.MustParsePrefix("10.96.0.0/16") },
			map[string]string{"vpn.transit": "overlaps cluster.serviceSubnet"}},
		{"host outside its site", func(t *Topology) { t.Sites[0].Hosts[1].Address = netip.MustParseAddr("192.168.20.50") },
			map[string]string{"sites[0].hosts[1].address": "outside the site prefix 192.168.10.0/24"}},
		{"network address", func(t *Topology) { t.Sites[0].Hosts[1].Address = netip.MustParseAddr("192.168.10.0") },
			map[string]string{"sites[0].hosts[1].address": "network address"}},
		{"broadcast address", func(t *Topology) { t.Sites[0].Hosts[1].Address = netip.MustParseAddr("192.168.10.255") },
			map[string]string{"sites[0].hosts[1].address": "broadcast address"}},
		{"router LAN outside site", func(t *Topology) { t.Sites[1].Router.LAN = netip.MustParseAddr("192.168.10.1") },
			map[string]string{"sites[1].router.lan": "outside the site prefix 192.168.20.0/24"}},
		{"router WAN outside underlay", func(t *Topology) { t.Sites[1].Router.WAN = netip.MustParseAddr("10.5.0.1") },
			map[string]string{"sites[1].router.wan": "outside the underlay"}},
		{"duplicate WAN", func(t *Topology) { t.Sites[1].Router.WAN = t.Sites[0].Router.WAN },
			map[string]string{"sites[1].router.wan": "duplicate WAN address 10.4.0.90"}},
		{"host on the router's address", func(t *Topology) { t.Sites[0].Hosts[0].Address = t.Sites[0].Router.LAN },
			map[string]string{"sites[0].hosts[0].address": "duplicate address 192.168.10.1"}},
		{"prefix with host bits", func(t *Topology) { t.Sites[0].Prefix = netip.MustParsePrefix("192.168.10.7/24") },
			map[string]string{"sites[0].prefix": "did you mean 192.168.10.0/24?"}},
		{"unknown hypervisor", func(t *Topology) { t.Sites[0].Hypervisor = "esxi9" },
			map[string]string{"sites[0].hypervisor": `unknown hypervisor "esxi9"; known: esxi1, esxi2`}},
		{"unknown hub", func(t *Topology) { t.VPN.Mode, t.VPN.Hub = VPNHubSpoke, "site-z" },
			map[string]string{"vpn.hub": `unknown site "site-z"`}},
		{"hub-spoke without hub", func(t *Topology) { t.VPN.Mode = VPNHubSpoke },
			map[string]string{"vpn.hub": "hub-spoke needs a hub site"}},
		{"vpn type not a DNS label", func(t *Topology) { t.VPN.Type = "Open_VPN" },
			map[string]string{"vpn.type": `"Open_VPN" is not a DNS label`}},
		{"wireguard with auth", func(t *Topology) { t.VPN.Type = VPNTypeWireGuard },
			map[string]string{"vpn.auth": `"tls": WireGuard peers authenticate with their keys`}},
		{"wireguard settings without wireguard", func(t *Topology) { t.VPN.WireGuard = &WireGuardVPN{} },
			map[string]string{"vpn.wireguard": `only with type wireguard (type is "openvpn")`}},
		{"wireguard endpoint does not parse", func(t *Topology) {
			t.VPN.Type, t.VPN.Auth = VPNTypeWireGuard, ""
			t.VPN.WireGuard = &WireGuardVPN{Endpoints: map[string]string{"vyos02": "203.0.113.5:x"}, Keepalive: -2}
		}, map[string]string{"vpn.wireguard.endpoints.vyos02": `"203.0.113.5:x": want an IPv4 address`, "vpn.wireguard.keepalive": "-2"}},
		{"wireguard endpoint of no router", func(t *Topology) {
			t.VPN.Type, t.VPN.Auth = VPNTypeWireGuard, ""
			t.VPN.WireGuard = &WireGuardVPN{Endpoints: map[string]string{"node01": "203.0.113.5"}}
		}, map[string]string{"vpn.wireguard.endpoints.node01": `no router "node01"`}},
		{"wireguard endpoint port on a router with two tunnels", func(t *Topology) {
			t.VPN.Type, t.VPN.Auth = VPNTypeWireGuard, ""
			t.VPN.WireGuard = &WireGuardVPN{Endpoints: map[string]string{"vyos02": "203.0.113.5:4000"}}
		}, map[string]string{"vpn.wireguard.endpoints.vyos02": "port 4000: router vyos02 has 2 tunnels"}},
		{"wireguard port clash", func(t *Topology) {
			t.VPN.Type, t.VPN.Auth, t.VPN.Mode, t.VPN.Hub = VPNTypeWireGuard, "", VPNHubSpoke, "site-a"
			t.VPN.WireGuard = &WireGuardVPN{Endpoints: map[string]string{"vyos02": "203.0.113.5:4000", "vyos03": "203.0.113.5:4000"}}
		}, map[string]string{"vpn.wireguard.endpoints.vyos03": "port clash: 203.0.113.5:4000 is also where router vyos02 (tunnel 0) is reached"}},
		{"wireguard port below 1024 on VyOS 1.2", func(t *Topology) {
			t.VPN.Type, t.VPN.Auth, t.VPN.Port = VPNTypeWireGuard, "", 500
		}, map[string]string{"vpn.port": "500: WireGuard on VyOS 1.2 (sites[0].router vyos01) listens on ports 1024-65535 only; the tunnels take 500-502"}},
		{"masters without load balancer", func(t *Topology) { t.Sites[0].Hosts[0].Role = RoleGeneric },
			map[string]string{"cluster": "3 control planes and no load balancer"}},
		{"name not a DNS label", func(t *Topology) { t.Sites[1].Hosts[0].Name = "Node_01" },
			map[string]string{"sites[1].hosts[0].name": "not a DNS label"}},
		{"unknown role and router kind", func(t *Topology) { t.Sites[1].Hosts[0].Role = "master"; t.Sites[2].Router.Kind = "cisco" },
			map[string]string{"sites[1].hosts[0].role": `unknown role "master"`, "sites[2].router.kind": `unknown router kind "cisco"`}},
		{"VyOS version unsupported", func(t *Topology) { t.Sites[0].Router.Version = "1.1" },
			map[string]string{"sites[0].router.version": `VyOS version "1.1" is not supported`}},
		{"transit too small", func(t *Topology) { t.VPN.Transit = netip.MustParsePrefix("10.255.0.0/29") },
			map[string]string{"vpn.transit": "too small for 3 tunnels"}},
		{"password in hypervisor URL", func(t *Topology) { t.Hypervisors[0].URL = "https://root:hunter2@10.4.0.13/sdk" },
			map[string]string{"hypervisors[0].url": "holds a password"}},
		{"bad Kubernetes version", func(t *Topology) { t.Cluster.Kubernetes = "1.37" },
			map[string]string{"cluster.kubernetes": `"1.37" is not a Kubernetes version`}},
		{"no uplinks on two hypervisors", func(t *Topology) { t.Hypervisors[1].Uplinks = nil },
			map[string]string{"hypervisors[1].uplinks": "esxi2 runs sites of a testbed on 2 hypervisors, and without an uplink its VLANs never leave the host"}},
		{"bad and repeated uplinks", func(t *Topology) { t.Hypervisors[0].Uplinks = []string{"vmnic1", "vmnic 2", "vmnic1"} },
			map[string]string{"hypervisors[0].uplinks[1]": `"vmnic 2" is not a NIC name`, "hypervisors[0].uplinks[2]": "vmnic1 is listed twice"}},
		{"datastore path", func(t *Topology) { t.Hypervisors[0].Datastore = "[datastore1] vms" },
			map[string]string{"hypervisors[0].datastore": "name the datastore alone"}},
		{"bad vSwitch name", func(t *Topology) { t.Hypervisors[0].VSwitch = "planet switch" },
			map[string]string{"hypervisors[0].vswitch": `"planet switch" is not a vSwitch name`}},
		{"credentials not variables", func(t *Topology) {
			t.Hypervisors[0].Credentials = &Credentials{UsernameEnv: "ESXI1_USER", PasswordEnv: "hunter2!"}
		}, map[string]string{"hypervisors[0].credentials.passwordEnv": "is not an environment variable's name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			top := loadThesis(t)
			tc.mutate(top)
			err := top.Validate()
			var ps Problems
			require.True(t, errors.As(err, &ps), "want Problems, got %v", err)
			got := map[string]string{}
			for _, p := range ps {
				got[p.Path] += p.Message
			}
			for path, frag := range tc.want {
				assert.Contains(t, got[path], frag, "problems: %v", ps)
			}
			assert.Len(t, ps, len(tc.want), "exactly the expected problems: %v", ps)
			assert.NotContains(t, err.Error(), "hunter2", "secrets never reach errors")
		})
	}
}

func TestValidateCollectsAllProblemsAtOnce(t *testing.T) {
	t.Parallel()
	top := loadThesis(t)
	top.Sites[1].Hosts[1].Name = "node01"
	top.Sites[2].VLAN = 20
	top.Cluster.PodSubnet = netip.MustParsePrefix("192.168.0.0/16")
	var ps Problems
	require.ErrorAs(t, top.Validate(), &ps)
	assert.GreaterOrEqual(t, len(ps), 5, "duplicate name, duplicate VLAN, three overlaps: %v", ps)
}

func TestValidateDoesNotChangeTheTopology(t *testing.T) {
	t.Parallel()
	top := loadThesis(t)
	top.SSH = nil
	top.Cluster.APIPort = 0
	require.NoError(t, top.Validate())
	assert.Nil(t, top.SSH, "Validate works on a copy")
	assert.Zero(t, top.Cluster.APIPort)
}

func TestLoadReportsFileLinesAndDecodeProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, find, replace string
		want                []string
	}{
		{"unknown field", "  vlan: 20\n", "  vlan: 20\n  vlna: 21\n", []string{"testdata/thesis.yaml:28: sites[1].vlna: unknown field \"vlna\""}},
		{"case slip", "podSubnet:", "podsubnet:", []string{`cluster.podsubnet: unknown field "podsubnet" (did you mean "podSubnet"?)`}},
		{"bad address", "192.168.20.102", "192.168.20.300", []string{`:33: sites[1].hosts[1].address: "192.168.20.300"`}},
		{"wrong type", "vlan: 30", "vlan: thirty", []string{`:35: sites[2].vlan: "thirty" is not a whole number`}},
		{"list for a mapping", "underlay: {prefix: 10.4.0.0/16, vlan: 0}", "underlay: [1, 2]", []string{"underlay: want a mapping, found a list"}},
		{"decode and semantic problems together", "name: node04", "name: node03", []string{`sites[2].hosts[1].name: duplicate machine name node03`}},
		{"duplicate key", "kind: Topology\n", "kind: Topology\nkind: Topology\n", []string{`:10: kind: duplicate field "kind"`}},
		{"wrong apiVersion", "planetstage.io/v1alpha1", "planetstage.io/v2", []string{`apiVersion: is "planetstage.io/v2"`}},
	}
	orig := mustRead(t, "testdata/thesis.yaml")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, orig, tc.find)
			_, err := Parse("testdata/thesis.yaml", []byte(strings.Replace(orig, tc.find, tc.replace, 1)))
			var ferr *FileError
			require.ErrorAs(t, err, &ferr)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestLoadRejectsNonTopologies(t *testing.T) {
	t.Parallel()
	for _, data := range []string{"", "---\n", "[]", "a: [", "hello", "---\na: 1\n---\nb: 2\n", "*x"} {
		_, err := Parse("f.yaml", []byte(data))
		assert.Error(t, err, "input %q", data)
	}
}

func TestMarshalRoundTrips(t *testing.T) {
	t.Parallel()
	top := loadThesis(t)
	data, err := Marshal(top)
	require.NoError(t, err)
	again, err := Parse("marshalled.yaml", data)
	require.NoError(t, err)
	assert.Equal(t, top, again)
}

func TestTunnelPairs(t *testing.T) {
	t.Parallel()
	top := loadThesis(t)
	assert.Equal(t, [][2]string{{"site-a", "site-b"}, {"site-a", "site-c"}, {"site-b", "site-c"}}, top.TunnelPairs())
	top.VPN.Mode, top.VPN.Hub = VPNHubSpoke, "site-b"
	assert.Equal(t, [][2]string{{"site-b", "site-a"}, {"site-b", "site-c"}}, top.TunnelPairs())
	assert.Equal(t, 2, top.TunnelCount())
}

func TestVPNTypeDefaultsToOpenVPN(t *testing.T) {
	t.Parallel()
	top := loadThesis(t)
	require.NotNil(t, top.VPN)
	assert.Equal(t, VPNTypeOpenVPN, top.VPN.Type, "a file without vpn.type gets the default")
	top.VPN.Type = "ipsec"
	assert.NoError(t, top.Validate(), "validation leaves which kinds exist to the layers")

	// A wireguard file gets WireGuard's port and no auth.
	data, err := os.ReadFile("testdata/thesis.yaml")
	require.NoError(t, err)
	text := strings.Replace(string(data), "vpn: {mode: mesh, auth: tls, transit: 10.255.0.0/16, port: 1194}", "vpn: {type: wireguard, mode: mesh, transit: 10.255.0.0/16}", 1)
	require.Contains(t, text, "type: wireguard")
	wg, err := Parse("wg.yaml", []byte(text))
	require.NoError(t, err)
	assert.Equal(t, DefaultWireGuardPort, wg.VPN.Port)
	assert.Empty(t, wg.VPN.Auth)
}

// An ssh section that says nothing must not validate and then fail at the
// first dial, after machines were made: left out, host keys are checked
// against the user's own known_hosts, as OpenSSH does, and keys come from
// ssh-agent. With checking off an empty identity is still only the agent:
// public-key authentication signs the session, so a man in the middle
// that insecureIgnoreHostKey lets in learns no key either way; the flag is
// the danger, and it is spelt out by whoever sets it.
func TestSSHDefaultsAndHostKeyPolicy(t *testing.T) {
	t.Parallel()
	thesis := mustRead(t, "testdata/thesis.yaml")
	const given = "ssh: {user: root, identityFile: ~/.ssh/id_ed25519, knownHosts: ~/.ssh/known_hosts}\n"
	require.Contains(t, thesis, given)
	tests := []struct {
		name, ssh string
		want      SSH
		problem   string // path: message fragment, or "" for valid
	}{
		{"absent", "", SSH{User: "root", Port: 22, KnownHosts: "~/.ssh/known_hosts"}, ""},
		{"null", "ssh:\n", SSH{User: "root", Port: 22, KnownHosts: "~/.ssh/known_hosts"}, ""},
		{"empty", "ssh: {}\n", SSH{User: "root", Port: 22, KnownHosts: "~/.ssh/known_hosts"}, ""},
		{"own known_hosts", "ssh: {user: ops, knownHosts: /etc/ssh/ssh_known_hosts}\n",
			SSH{User: "ops", Port: 22, KnownHosts: "/etc/ssh/ssh_known_hosts"}, ""},
		{"checking off", "ssh: {insecureIgnoreHostKey: true}\n",
			SSH{User: "root", Port: 22, InsecureIgnoreHostKey: true}, ""},
		{"checking off and a known_hosts", "ssh: {knownHosts: ~/.ssh/known_hosts, insecureIgnoreHostKey: true}\n", SSH{},
			"ssh.insecureIgnoreHostKey: host key checking is off, yet knownHosts is set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			top, err := Parse("ssh.yaml", []byte(strings.Replace(thesis, given, tt.ssh, 1)))
			if tt.problem != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.problem)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, top.SSH)
			assert.Equal(t, tt.want, *top.SSH)
		})
	}
}

// A manifest that cluster.cni names is found next to the topology file,
// wherever the program that loads it runs.
func TestLoadResolvesTheCNIManifestNextToTheFile(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/thesis.yaml")
	require.NoError(t, err)
	dir := t.TempDir()
	for cni, want := range map[string]string{
		"calico.yaml":     filepath.Join(dir, "calico.yaml"),
		"/etc/calico.yml": "/etc/calico.yml",
		"vxlan":           "vxlan",
		"none":            "none",
	} {
		file := filepath.Join(dir, "thesis.yaml")
		s := strings.Replace(string(data), "apiPort: 6443}", "apiPort: 6443, cni: "+cni+"}", 1)
		require.Contains(t, s, "cni: "+cni)
		require.NoError(t, os.WriteFile(file, []byte(s), 0o644))
		top, err := Load(file)
		require.NoError(t, err)
		assert.Equal(t, want, top.Cluster.CNI, cni)
	}
}

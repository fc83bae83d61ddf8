package kubeadm

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/planetstage/planetstage/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func thesisPeers() []vxlanPeer {
	var peers []vxlanPeer
	for i, n := range thesisCluster().Nodes() {
		peers = append(peers, vxlanPeer{n.Name, n.Address, netip.MustParsePrefix(fmt.Sprintf("10.244.%d.0/24", i))})
	}
	return peers
}

func TestVXLANFiles(t *testing.T) {
	t.Parallel()
	peers := thesisPeers()
	conflist, script, err := VXLAN{}.files("node03", peers)
	require.NoError(t, err)
	assert.Contains(t, string(conflist), `"subnet":"10.244.5.0/24"`)
	assert.Contains(t, string(conflist), `"mtu":1350`)
	s := string(script)
	assert.Contains(t, s, "local 192.168.30.101 dstport 4789")
	assert.Contains(t, s, "ip addr replace 10.244.5.0/32 dev $dev")
	// A route and forwarding entry to every other node, none to itself.
	assert.Equal(t, len(peers)-1, strings.Count(s, "ip route replace"))
	assert.Contains(t, s, "ip route replace 10.244.3.0/24 via 10.244.3.0 dev $dev onlink")
	assert.Contains(t, s, "bridge fdb replace "+vtepMAC(peers[3].address)+" dev $dev dst 192.168.20.101 self permanent")
	assert.NotContains(t, s, "dst 192.168.30.101")

	again, _, _ := VXLAN{}.files("node03", peers)
	assert.Equal(t, conflist, again, "deterministic")
	assert.NotEqual(t, vtepMAC(peers[0].address), vtepMAC(peers[1].address))

	_, _, err = VXLAN{}.files("node09", peers)
	assert.ErrorContains(t, err, "node09")
}

// nsRunner runs commands inside a network namespace of this machine.
type nsRunner struct{ ns string }

func (n nsRunner) run(ctx context.Context, cmd string) (string, error) {
	return remote.CombinedOutput(ctx, &remote.Local{Name: n.ns}, "ip netns exec "+n.ns+" sh -c "+remote.ShellQuote(cmd))
}

// TestVXLANScriptCarriesPodTrafficAcrossARouter runs the generated scripts
// for real in network namespaces: two nodes in different subnets joined
// only by a router namespace (no L2 between them, as between sites). An
// empty cni0 bridge holding each node's pod gateway address stands in for the
// bridge plugin's. Pod-to-pod pings fail before the scripts run and work after.
func TestVXLANScriptCarriesPodTrafficAcrossARouter(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	for _, bin := range []string{"ip", "bridge", "ping"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (apt-get install iproute2 iputils-ping)", bin)
		}
	}
	ctx := context.Background()
	id := fmt.Sprintf("psvx%d", os.Getpid()%100000)
	r, a, b := nsRunner{id + "r"}, nsRunner{id + "a"}, nsRunner{id + "b"}
	local := &remote.Local{}
	sh := func(cmd string) {
		t.Helper()
		out, err := remote.CombinedOutput(ctx, local, cmd)
		require.NoError(t, err, out)
	}
	for _, ns := range []nsRunner{r, a, b} {
		sh("ip netns add " + ns.ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns.ns).Run() })
	}
	sh(fmt.Sprintf("ip link add %sa type veth peer name eth0 netns %s && ip link set %sa netns %s", id, a.ns, id, r.ns))
	sh(fmt.Sprintf("ip link add %sb type veth peer name eth0 netns %s && ip link set %sb netns %s", id, b.ns, id, r.ns))
	for _, step := range []struct {
		ns  nsRunner
		cmd string
	}{
		{r, fmt.Sprintf("sysctl -qw net.ipv4.ip_forward=1 && ip link set lo up && ip addr add 192.168.20.1/24 dev %sa && ip link set %sa up && ip addr add 192.168.30.1/24 dev %sb && ip link set %sb up", id, id, id, id)},
		{a, "sysctl -qw net.ipv4.ip_forward=1 && ip link set lo up && ip addr add 192.168.20.101/24 dev eth0 && ip link set eth0 up && ip route add default via 192.168.20.1 && ip link add cni0 type bridge && ip addr add 10.244.1.1/24 dev cni0 && ip link set cni0 up"},
		{b, "sysctl -qw net.ipv4.ip_forward=1 && ip link set lo up && ip addr add 192.168.30.101/24 dev eth0 && ip link set eth0 up && ip route add default via 192.168.30.1 && ip link add cni0 type bridge && ip addr add 10.244.2.1/24 dev cni0 && ip link set cni0 up"},
	} {
		out, err := step.ns.run(ctx, step.cmd)
		require.NoError(t, err, out)
	}
	out, err := a.run(ctx, "ping -c1 -W1 192.168.30.101")
	require.NoError(t, err, "underlay across the router must work: %s", out)
	_, err = a.run(ctx, "ping -c1 -W1 -I 10.244.1.1 10.244.2.1")
	require.Error(t, err, "pod networks must not reach each other before the overlay exists")

	peers := []vxlanPeer{
		{"a", netip.MustParseAddr("192.168.20.101"), netip.MustParsePrefix("10.244.1.0/24")},
		{"b", netip.MustParseAddr("192.168.30.101"), netip.MustParsePrefix("10.244.2.0/24")},
	}
	dir := t.TempDir()
	for _, n := range []struct {
		ns   nsRunner
		name string
	}{{a, "a"}, {b, "b"}} {
		_, script, err := VXLAN{}.files(n.name, peers)
		require.NoError(t, err)
		path := filepath.Join(dir, n.name+".sh")
		require.NoError(t, os.WriteFile(path, script, 0o644))
		for range 2 { // the script must be safe to re-run
			out, err := n.ns.run(ctx, "sh "+path)
			require.NoError(t, err, out)
		}
	}
	out, err = a.run(ctx, "ping -c2 -W2 -I 10.244.1.1 10.244.2.1")
	require.NoError(t, err, "pod to pod through the VXLAN overlay: %s", out)
	out, err = b.run(ctx, "ping -c2 -W2 -I 10.244.2.1 10.244.1.1")
	require.NoError(t, err, "and back: %s", out)
}

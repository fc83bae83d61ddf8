//go:build linux

package wan

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/remote"
)

// TestOpenVPNThroughRelay proves the relay's design with the real openvpn:
// two OpenVPN peers, each in its own network namespace, whose remote is
// the relay's socket facing them (no float), and a ping through the tunnel
// whose median RTT must be the link's RTT within 5 %.
//
// The namespaces hang off this host by veth pairs in 198.18.0.0/15 (the
// RFC 2544 benchmarking range, which nothing else here uses); the relay
// runs in the test process on the host ends. Deleting the namespaces at the
// end deletes the veths.
//
// It does not run in parallel: it measures timing, and the package's other
// tests (loopback iperf3, loss bursts) would saturate the CPU meanwhile.
func TestOpenVPNThroughRelay(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	for _, bin := range []string{"ip", "openvpn", "ping"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s (apt packages iproute2, openvpn, iputils-ping)", bin)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	id := os.Getpid() % 100000
	subnet := 18 + id%2 // 198.18 or 198.19
	octet := id % 250
	hostA := netip.MustParseAddr(fmt.Sprintf("198.%d.%d.1", subnet, octet))
	peerA := netip.MustParseAddr(fmt.Sprintf("198.%d.%d.2", subnet, octet))
	hostB := netip.MustParseAddr(fmt.Sprintf("198.%d.%d.5", subnet, octet))
	peerB := netip.MustParseAddr(fmt.Sprintf("198.%d.%d.6", subnet, octet))
	nsA, nsB := fmt.Sprintf("psw%d-a", id), fmt.Sprintf("psw%d-b", id)
	makeNetns(ctx, t, nsA, fmt.Sprintf("psw%da", id), hostA, peerA)
	makeNetns(ctx, t, nsB, fmt.Sprintf("psw%db", id), hostB, peerB)
	// A direct link between the namespaces, for the "without the tunnel"
	// throughput.
	directA := netip.MustParseAddr(fmt.Sprintf("198.%d.%d.9", subnet, octet))
	directB := netip.MustParseAddr(fmt.Sprintf("198.%d.%d.10", subnet, octet))
	mustRun(ctx, t, "ip", "-n", nsA, "link", "add", "direct0", "type", "veth", "peer", "name", "direct0", "netns", nsB)
	mustRun(ctx, t, "ip", "-n", nsA, "addr", "add", directA.String()+"/30", "dev", "direct0")
	mustRun(ctx, t, "ip", "-n", nsB, "addr", "add", directB.String()+"/30", "dev", "direct0")
	mustRun(ctx, t, "ip", "-n", nsA, "link", "set", "direct0", "up")
	mustRun(ctx, t, "ip", "-n", nsB, "link", "set", "direct0", "up")

	// OpenVPN itself adds 1–2 ms of RTT on a busy machine (tun, encryption,
	// wake-ups); at 100 ms that is within the 5 % the issue allows.
	link := Link{RTT: 100 * time.Millisecond}
	path, err := ListenPath(ctx, PathConfig{
		Name:     "a<->b",
		ListenA:  netip.AddrPortFrom(hostA, 0),
		ListenB:  netip.AddrPortFrom(hostB, 0),
		PeerA:    netip.AddrPortFrom(peerA, 1194),
		PeerB:    netip.AddrPortFrom(peerB, 1194),
		AtoB:     link.OneWay(),
		BtoA:     link.OneWay(),
		Realtime: true,
	})
	require.NoError(t, err)
	relayCtx, stopRelay := context.WithCancel(ctx)
	relayDone := make(chan struct{})
	go func() { _ = path.Run(relayCtx); close(relayDone) }()
	t.Cleanup(func() { stopRelay(); <-relayDone })

	key := filepath.Join(t.TempDir(), "static.key")
	mustRun(ctx, t, "openvpn", "--genkey", "secret", key)
	pidA := startOpenVPN(ctx, t, nsA, peerA, path.AddrA(), "10.255.0.1", "10.255.0.2", key)
	pidB := startOpenVPN(ctx, t, nsB, peerB, path.AddrB(), "10.255.0.2", "10.255.0.1", key)

	require.Eventually(t, func() bool {
		return exec.CommandContext(ctx, "ip", "netns", "exec", nsA, "ping", "-c", "1", "-W", "1", "10.255.0.2").Run() == nil
	}, 30*time.Second, 200*time.Millisecond, "the tunnel did not come up through the relay")

	inA, inB := &netnsRunner{ns: nsA}, &netnsRunner{ns: nsB}
	sites, err := MeasureSites(ctx, []SiteProbe{{
		From: "a", To: "b", Target: link.RTT, Runner: inA, Addr: netip.MustParseAddr("10.255.0.2"),
	}}, 25, 200*time.Millisecond)
	require.NoError(t, err)
	require.Len(t, sites, 1)
	assert.InDelta(t, 0, sites[0].ErrorPct, 5, "median RTT through OpenVPN and the relay: %+v", sites[0])

	// What the tunnel costs: TCP through it (OpenVPN daemons' CPU
	// meanwhile) and over a direct veth between the namespaces. Logged,
	// not asserted beyond "it carries data": the numbers depend on the
	// machine.
	tunnels, err := MeasureTunnels(ctx, []TunnelProbe{{
		From: "a", To: "b", Client: inA, Server: inB,
		TunnelAddr: netip.MustParseAddr("10.255.0.2"), DirectAddr: directB,
		ClientCPU: ProcessCPU(&remote.Local{}, pidA), ServerCPU: ProcessCPU(&remote.Local{}, pidB),
	}}, 3*time.Second)
	require.NoError(t, err)
	require.Len(t, tunnels, 1)
	assert.Positive(t, tunnels[0].TunnelMbps)
	assert.Positive(t, tunnels[0].DirectMbps)
	t.Logf("OpenVPN through the relay (direct = a veth between the namespaces, no relay):\n%s", Report{Sites: sites, Tunnels: tunnels}.Table())

	st := path.Stats()
	t.Logf("the relay's own median lateness: a->b %v, b->a %v", st.AtoB.LateMedian, st.BtoA.LateMedian)
	assert.Zero(t, st.AtoB.Foreign+st.BtoA.Foreign, "OpenVPN must only ever talk to the relay")
	assert.Positive(t, st.AtoB.Forwarded)
	assert.Positive(t, st.BtoA.Forwarded)
}

// netnsRunner runs commands inside a network namespace of this machine
// (files are this machine's): a real remote.Runner for the namespaces the
// test makes, not a stand-in.
type netnsRunner struct {
	remote.Local
	ns string
}

func (n *netnsRunner) Run(ctx context.Context, cmd remote.Cmd) error {
	cmd.Command = "ip netns exec " + n.ns + " sh -c " + remote.ShellQuote(cmd.Command)
	return n.Local.Run(ctx, cmd)
}

func (n *netnsRunner) Host() string { return "netns " + n.ns }

func mustRun(ctx context.Context, t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	require.NoError(t, err, "%s %s: %s", name, strings.Join(args, " "), out)
}

// makeNetns creates namespace ns joined to this host by a veth pair:
// hostIf with hostAddr/30 here, wan0 with nsAddr/30 in the namespace.
func makeNetns(ctx context.Context, t *testing.T, ns, hostIf string, hostAddr, nsAddr netip.Addr) {
	t.Helper()
	mustRun(ctx, t, "ip", "netns", "add", ns)
	t.Cleanup(func() {
		// Not ctx: it may be cancelled by now, and the namespace must go.
		_ = exec.Command("ip", "netns", "del", ns).Run()
	})
	mustRun(ctx, t, "ip", "link", "add", hostIf, "type", "veth", "peer", "name", "wan0", "netns", ns)
	mustRun(ctx, t, "ip", "addr", "add", hostAddr.String()+"/30", "dev", hostIf)
	mustRun(ctx, t, "ip", "link", "set", hostIf, "up")
	mustRun(ctx, t, "ip", "-n", ns, "addr", "add", nsAddr.String()+"/30", "dev", "wan0")
	mustRun(ctx, t, "ip", "-n", ns, "link", "set", "wan0", "up")
	mustRun(ctx, t, "ip", "-n", ns, "link", "set", "lo", "up")
}

// startOpenVPN runs a static-key site-to-site OpenVPN in ns whose remote is
// the relay, and stops it at cleanup. Its log is shown only on failure.
func startOpenVPN(ctx context.Context, t *testing.T, ns string, local netip.Addr, peer netip.AddrPort, ifLocal, ifRemote, key string) int {
	t.Helper()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "openvpn",
		"--dev", "tun0", "--dev-type", "tun",
		"--local", local.String(), "--lport", "1194",
		"--remote", peer.Addr().String(), "--rport", strconv.Itoa(int(peer.Port())),
		"--ifconfig", ifLocal, ifRemote,
		"--secret", key, "--cipher", "AES-256-CBC", "--auth", "SHA256",
		"--ping", "1", "--verb", "3")
	var log lockedBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("openvpn in %s:\n%s", ns, log.String())
		}
	})
	return cmd.Process.Pid
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

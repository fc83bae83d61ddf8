package remote

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
)

// jumpLab is client -> jump1 -> jump2 -> target. With network namespaces,
// jump2 and the target sit in namespaces of their own so that the target is
// reachable only from jump2, as a site's hosts are only reachable through
// its router:
//
//	host ns: client, jump1 (127.0.0.11)
//	   | veth 169.254.N.1/29 -- 169.254.N.2/29
//	ns A: jump2 (169.254.N.2:22)
//	   | veth 169.254.N.5/30 -- 169.254.N.6/30
//	ns B: target (169.254.N.6:22)
//
// The host has no address that reaches ns B (ns A does not forward), and no
// packet leaves the machine: the host's /29 covers the target's address, so
// a direct dial stays on the veth and finds nobody.
type jumpLab struct {
	jump1, jump2, target *sshd
	isolated             bool   // namespaces in use
	jump2Addr            string // jump2's address as the target sees it
}

func newJumpLab(t *testing.T) *jumpLab {
	t.Helper()
	requireSSHD(t)
	lab := &jumpLab{jump1: startSSHD(t, sshdOptions{IP: "127.0.0.11", Extra: []string{"AllowTcpForwarding yes"}})}
	n := 1 + rand.IntN(250)
	nsA, nsB := fmt.Sprintf("psjump%da", n), fmt.Sprintf("psjump%db", n)
	ip := func(format string) string { return strings.ReplaceAll(format, "N", fmt.Sprint(n)) }
	err := runAll(t,
		"ip netns add "+nsA,
		"ip netns add "+nsB,
		ip("ip link add psjNh type veth peer name psjNa netns ")+nsA,
		ip("ip addr add 169.254.N.1/29 dev psjNh"),
		ip("ip link set psjNh up"),
		"ip -n "+nsA+" link set lo up",
		ip("ip -n "+nsA+" addr add 169.254.N.2/29 dev psjNa"),
		ip("ip -n "+nsA+" link set psjNa up"),
		ip("ip -n "+nsA+" link add psjNab type veth peer name psjNb netns ")+nsB,
		ip("ip -n "+nsA+" addr add 169.254.N.5/30 dev psjNab"),
		ip("ip -n "+nsA+" link set psjNab up"),
		"ip -n "+nsB+" link set lo up",
		ip("ip -n "+nsB+" addr add 169.254.N.6/30 dev psjNb"),
		ip("ip -n "+nsB+" link set psjNb up"),
	)
	t.Cleanup(func() {
		// Deleting the namespaces deletes the veth pairs.
		_ = exec.Command("ip", "netns", "del", nsB).Run()
		_ = exec.Command("ip", "netns", "del", nsA).Run()
	})
	if err != nil {
		t.Logf("no network namespaces (%v): target reachable directly too; the chain is checked by the servers' logs only", err)
		lab.jump2 = startSSHD(t, sshdOptions{IP: "127.0.0.12", Extra: []string{"AllowTcpForwarding yes"}})
		lab.target = startSSHD(t, sshdOptions{IP: "127.0.0.13", Extra: []string{"AllowTcpForwarding no"}})
		lab.jump2Addr = "127.0.0.1"
		return lab
	}
	lab.isolated = true
	lab.jump2 = startSSHD(t, sshdOptions{IP: ip("169.254.N.2"), Port: 22, Netns: nsA, Extra: []string{"AllowTcpForwarding yes"}})
	lab.target = startSSHD(t, sshdOptions{IP: ip("169.254.N.6"), Port: 22, Netns: nsB, Extra: []string{"AllowTcpForwarding no"}})
	lab.jump2Addr = ip("169.254.N.5")
	return lab
}

func runAll(t *testing.T, commands ...string) error {
	for _, c := range commands {
		f := strings.Fields(c)
		if out, err := exec.Command(f[0], f[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", c, err, out)
		}
	}
	return nil
}

// config chains the three hops; known lists their host keys.
func (lab *jumpLab) config(t *testing.T, known map[string]ssh.PublicKey) SSHConfig {
	if known == nil {
		known = map[string]ssh.PublicKey{
			lab.jump1.Addr: lab.jump1.HostKey, lab.jump2.Addr: lab.jump2.HostKey, lab.target.Addr: lab.target.HostKey,
		}
	}
	file := writeKnownHosts(t, known)
	hop := func(name string, s *sshd) SSHConfig {
		return SSHConfig{Name: name, Addr: s.Addr, User: "root", Signers: []ssh.Signer{clientKey().signer}, KnownHostsFile: file}
	}
	jump1, jump2, target := hop("jump1", lab.jump1), hop("jump2", lab.jump2), hop("target", lab.target)
	jump2.Jump = &jump1
	target.Jump = &jump2
	return target
}

func TestSSHTwoHopJump(t *testing.T) {
	t.Parallel()
	lab := newJumpLab(t)
	if lab.isolated {
		// The target is out of the client's reach without the chain.
		_, err := (&net.Dialer{Timeout: time.Second}).DialContext(t.Context(), "tcp", lab.target.Addr)
		require.Error(t, err, "target must not be reachable directly")
	}
	dialer := &countingDialer{}
	cfg := lab.config(t, nil)
	cfg.Jump.Jump.DialContext = dialer.dial
	r := newSSHRunner(t, cfg)

	out, err := Output(t.Context(), r, `echo "$SSH_CLIENT"`)
	require.NoError(t, err)
	assert.Equal(t, lab.jump2Addr, strings.Fields(out)[0], "the target's client is jump2")
	testRunnerContractFiles(t, r)

	assert.Equal(t, []string{lab.jump1.Addr}, dialer.dials(), "the client dials only the first hop")
	assert.Contains(t, lab.jump1.Log(), "target "+hostPortLog(lab.jump2.Addr), "jump1 forwarded to jump2")
	assert.Contains(t, lab.jump2.Log(), "target "+hostPortLog(lab.target.Addr), "jump2 forwarded to the target")
	for _, s := range []*sshd{lab.jump1, lab.jump2, lab.target} {
		assert.Equal(t, 1, s.Connections(), s.Addr)
	}
}

// testRunnerContractFiles is a short file round trip through a runner
// whose host is not this machine's file system.
func testRunnerContractFiles(t *testing.T, r Runner) {
	path := "/tmp/planetstage-jump-test-" + fmt.Sprint(rand.Int64()) + "/f.conf"
	require.NoError(t, r.WriteFile(t.Context(), path, []byte("through the chain\n"), 0o600))
	got, err := r.ReadFile(t.Context(), path)
	require.NoError(t, err)
	assert.Equal(t, "through the chain\n", string(got))
	out, err := Output(t.Context(), r, "stat -c %a "+path+"; rm -r "+ShellQuote(path[:strings.LastIndexByte(path, '/')]))
	require.NoError(t, err)
	assert.Equal(t, "600\n", out)
}

// hostPortLog formats addr as sshd's debug log names a forwarding target.
func hostPortLog(addr string) string {
	h, p, _ := net.SplitHostPort(addr)
	return h + " port " + p
}

func TestSSHJumpHostKeyMismatchNamesTheHop(t *testing.T) {
	t.Parallel()
	lab := newJumpLab(t)
	wrong := newTestKey(t).signer.PublicKey()
	cfg := lab.config(t, map[string]ssh.PublicKey{
		lab.jump1.Addr: lab.jump1.HostKey, lab.jump2.Addr: wrong, lab.target.Addr: lab.target.HostKey,
	})
	r := newSSHRunner(t, cfg)
	err := r.Run(t.Context(), Cmd{Command: "true"})
	require.Error(t, err)
	var hk *HostKeyError
	require.ErrorAs(t, err, &hk)
	assert.Equal(t, "jump2", hk.Host)
	assert.Contains(t, err.Error(), "target: connect: jump jump2: host jump2")
	assert.Contains(t, err.Error(), ssh.FingerprintSHA256(lab.jump2.HostKey))
	assert.Zero(t, lab.target.Connections())
}

// Hosts behind a router share the router runner's one connection.
func TestSSHViaSharesTheRoutersConnection(t *testing.T) {
	t.Parallel()
	router := startSSHD(t, sshdOptions{IP: "127.0.0.14", Extra: []string{"AllowTcpForwarding yes"}})
	hosts := []*sshd{startSSHD(t, sshdOptions{IP: "127.0.0.15"}), startSSHD(t, sshdOptions{IP: "127.0.0.15"})}
	dialer := &countingDialer{}
	routerCfg := router.rootConfig(t)
	routerCfg.DialContext = dialer.dial
	r := newSSHRunner(t, routerCfg)
	var runners []*SSH
	for _, h := range hosts {
		cfg := h.rootConfig(t)
		cfg.Via = r
		runners = append(runners, newSSHRunner(t, cfg))
	}

	errs := make(chan error, 3*10)
	for range 10 {
		for _, x := range []Runner{r, runners[0], runners[1]} {
			go func() { errs <- x.Run(t.Context(), Cmd{Command: "true"}) }()
		}
	}
	for range 3 * 10 {
		require.NoError(t, <-errs)
	}
	assert.Equal(t, []string{router.Addr}, dialer.dials(), "only the router is dialled")
	assert.Equal(t, 1, router.Connections())
	for _, h := range hosts {
		assert.Equal(t, 1, h.Connections(), h.Addr)
		assert.Contains(t, router.Log(), "target "+hostPortLog(h.Addr))
	}

	// When the router's connection dies, the hosts' tunnels die with it;
	// the next command re-dials both.
	err := r.Run(t.Context(), Cmd{Command: `kill -KILL "$(awk '{print $4}' /proc/$PPID/stat)"`})
	require.Error(t, err)
	out, err := Output(t.Context(), runners[0], "echo back")
	require.NoError(t, err)
	assert.Equal(t, "back\n", out)
	assert.Equal(t, 2, router.Connections())
	assert.Equal(t, 2, hosts[0].Connections())

	// Closing a host's runner leaves the router's connection alone.
	require.NoError(t, runners[0].Close())
	require.NoError(t, r.Run(t.Context(), Cmd{Command: "true"}))
	assert.Equal(t, 2, router.Connections())
}

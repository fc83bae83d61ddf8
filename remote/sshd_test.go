package remote

// The test harness: a real OpenSSH sshd per test, started on a loopback
// address with a throwaway config, host key and authorized_keys.

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

const sshdPath = "/usr/sbin/sshd"

// requireSSHD skips the test when sshd cannot be run here.
func requireSSHD(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(sshdPath); err != nil {
		t.Skipf("%s not found (apt-get install openssh-server): %v", sshdPath, err)
	}
	if os.Geteuid() != 0 {
		t.Skip("sshd needs root to switch users for a login; run the tests as root")
	}
}

// testKey is a fresh ed25519 key: the signer, and its private key as an
// OpenSSH PEM file's bytes.
type testKey struct {
	priv   ed25519.PrivateKey
	signer ssh.Signer
	pem    []byte
}

func newTestKey(t testing.TB) testKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	signer, err := ssh.NewSignerFromKey(priv)
	require.NoError(t, err)
	block, err := ssh.MarshalPrivateKey(priv, "")
	require.NoError(t, err)
	return testKey{priv: priv, signer: signer, pem: pem.EncodeToMemory(block)}
}

// clientKey is the key every test server authorizes for root.
var clientKey = sync.OnceValue(func() testKey {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		panic(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		panic(err)
	}
	return testKey{priv: priv, signer: signer, pem: pem.EncodeToMemory(block)}
})

// sshdOptions shape one test server.
type sshdOptions struct {
	IP    string   // loopback address to listen on; default 127.0.0.2
	Port  int      // 0 picks a free one
	Extra []string // more sshd_config lines
	// Users maps login names to their authorized keys; default root with
	// clientKey.
	Users map[string][]ssh.PublicKey
	// NoStart prepares the server without starting it (see start).
	NoStart bool
	// Netns runs the server in that network namespace.
	Netns string
	// ECDSA gives the server a second host key, of a type x/crypto/ssh
	// prefers to ed25519.
	ECDSA bool
}

// sshd is one running (or prepared) test server.
type sshd struct {
	t       testing.TB
	Addr    string
	HostKey ssh.PublicKey
	dir     string
	config  string
	netns   string
	log     syncBuffer
	mu      sync.Mutex
	cmd     *exec.Cmd
}

func startSSHD(t testing.TB, o sshdOptions) *sshd {
	t.Helper()
	requireSSHD(t)
	// sshd refuses to start without its privilege separation directory.
	require.NoError(t, os.MkdirAll("/run/sshd", 0o755))
	if o.IP == "" {
		o.IP = "127.0.0.2"
	}
	if o.Port == 0 {
		o.Port = freePort(t, o.IP)
	}
	if o.Users == nil {
		o.Users = map[string][]ssh.PublicKey{"root": {clientKey().signer.PublicKey()}}
	}
	dir := t.TempDir()
	// Non-root logins read their authorized_keys with their own rights.
	require.NoError(t, os.Chmod(dir, 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	s := &sshd{t: t, Addr: net.JoinHostPort(o.IP, fmt.Sprint(o.Port)), dir: dir, netns: o.Netns}

	host := newTestKey(t)
	s.HostKey = host.signer.PublicKey()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "host_ed25519"), host.pem, 0o600))
	hostKeys := []string{"HostKey " + filepath.Join(dir, "host_ed25519")}
	if o.ECDSA {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		block, err := ssh.MarshalPrivateKey(priv, "")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "host_ecdsa"), pem.EncodeToMemory(block), 0o600))
		hostKeys = append(hostKeys, "HostKey "+filepath.Join(dir, "host_ecdsa"))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "keys"), 0o755))
	home := filepath.Join(dir, "home")
	require.NoError(t, os.Mkdir(home, 0o755))
	var users []string
	for user, keys := range o.Users {
		var lines []byte
		for _, k := range keys {
			lines = append(lines, ssh.MarshalAuthorizedKey(k)...)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "keys", user), lines, 0o644))
		users = append(users, user)
	}
	conf := []string{
		"ListenAddress " + s.Addr,
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"AuthorizedKeysFile " + filepath.Join(dir, "keys", "%u"),
		"AllowUsers " + strings.Join(users, " "),
		"UsePAM no",
		"StrictModes no",
		"PermitRootLogin prohibit-password",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PubkeyAuthentication yes",
		"LogLevel DEBUG1",
		// The login shell runs with a HOME of its own: bash reads
		// ~/.bashrc even for a command over SSH, and this machine's
		// root may have one that prints (CI's did: pyenv's rehash
		// complaining on stderr), which is no part of the runner's output.
		"SetEnv HOME=" + home,
	}
	conf = append(conf, hostKeys...)
	conf = append(conf, o.Extra...)
	s.config = filepath.Join(dir, "sshd_config")
	require.NoError(t, os.WriteFile(s.config, []byte(strings.Join(conf, "\n")+"\n"), 0o600))
	out, err := exec.Command(sshdPath, "-t", "-f", s.config).CombinedOutput()
	require.NoError(t, err, "sshd -t: %s", out)

	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("sshd %s log:\n%s", s.Addr, tail(s.Log(), 8000))
		}
	})
	if !o.NoStart {
		s.start()
	}
	return s
}

// start runs sshd and waits until it listens.
func (s *sshd) start() {
	s.t.Helper()
	// -E, not -e: with -e the session processes' debug lines would end up
	// in the commands' stderr.
	args := []string{sshdPath, "-D", "-E", filepath.Join(s.dir, "sshd.log"), "-f", s.config}
	if s.netns != "" {
		args = append([]string{"ip", "netns", "exec", s.netns}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = &s.log
	// The server and the session processes it forks die with the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(s.t, cmd.Start())
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(s.Log(), "Server listening on") {
		select {
		case <-exited:
			s.t.Fatalf("sshd on %s exited: %s", s.Addr, s.Log())
		case <-deadline:
			s.t.Fatalf("sshd on %s did not listen within 10s: %s", s.Addr, s.Log())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// stop kills the listening sshd (sessions it forked live on until they end).
func (s *sshd) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		s.cmd = nil
	}
}

// Log returns what sshd logged so far.
func (s *sshd) Log() string {
	data, _ := os.ReadFile(filepath.Join(s.dir, "sshd.log"))
	return s.log.String() + string(data)
}

// Connections counts the TCP connections sshd accepted.
func (s *sshd) Connections() int { return strings.Count(s.Log(), "Connection from ") }

// KnownHosts writes a known_hosts file listing this server's key and
// returns its path.
func (s *sshd) KnownHosts(t testing.TB) string {
	t.Helper()
	return writeKnownHosts(t, map[string]ssh.PublicKey{s.Addr: s.HostKey})
}

func writeKnownHosts(t testing.TB, keys map[string]ssh.PublicKey) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# throwaway known_hosts for a test\n")
	for addr, key := range keys {
		b.WriteString(knownhosts.Line([]string{knownhosts.Normalize(addr)}, key) + "\n")
	}
	path := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}

// rootConfig is the SSHConfig for root on s with clientKey.
func (s *sshd) rootConfig(t testing.TB) SSHConfig {
	return SSHConfig{
		Name:           "sshd-" + s.Addr,
		Addr:           s.Addr,
		User:           "root",
		Signers:        []ssh.Signer{clientKey().signer},
		KnownHostsFile: s.KnownHosts(t),
	}
}

func newSSHRunner(t testing.TB, cfg SSHConfig) *SSH {
	t.Helper()
	r, err := NewSSH(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// freePort returns a TCP port that was free on ip a moment ago.
func freePort(t testing.TB, ip string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// countingDialer counts the TCP connections a runner makes itself.
type countingDialer struct {
	mu    sync.Mutex
	addrs []string
}

func (d *countingDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, addr)
	d.mu.Unlock()
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

func (d *countingDialer) dials() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.addrs...)
}

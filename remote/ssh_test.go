package remote

import (
	"context"
	"encoding/pem"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

func TestSSHContract(t *testing.T) {
	t.Parallel()
	srv := startSSHD(t, sshdOptions{IP: "127.0.0.2"})
	r := newSSHRunner(t, srv.rootConfig(t))
	testRunnerContract(t, r, t.TempDir())
}

func TestSSHHostKeyVerification(t *testing.T) {
	t.Parallel()
	srv := startSSHD(t, sshdOptions{IP: "127.0.0.4"})
	other := newTestKey(t).signer.PublicKey()
	offered := ssh.FingerprintSHA256(srv.HostKey)

	tests := []struct {
		name      string
		known     map[string]ssh.PublicKey // nil: InsecureIgnoreHostKey
		wantErr   []string                 // substrings; none means success
		wantKnown int                      // HostKeyError.Known entries
	}{
		{name: "known key", known: map[string]ssh.PublicKey{srv.Addr: srv.HostKey}},
		{name: "insecure opt-out", known: nil},
		{
			name:    "unknown host",
			known:   map[string]ssh.PublicKey{"127.0.0.99:22": srv.HostKey},
			wantErr: []string{"target", srv.Addr, offered, "not in known_hosts"},
		},
		{
			name:      "wrong key",
			known:     map[string]ssh.PublicKey{srv.Addr: other},
			wantErr:   []string{"target", srv.Addr, offered, "does NOT match", "known_hosts:2"},
			wantKnown: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dialer := &countingDialer{}
			cfg := SSHConfig{
				Name: "target", Addr: srv.Addr, User: "root",
				Signers:     []ssh.Signer{clientKey().signer},
				DialContext: dialer.dial,
				Retry:       Retry{Attempts: 5, Initial: 200 * time.Millisecond},
			}
			if tt.known == nil {
				cfg.InsecureIgnoreHostKey = true
			} else {
				cfg.KnownHostsFile = writeKnownHosts(t, tt.known)
			}
			r := newSSHRunner(t, cfg)
			out, err := Output(t.Context(), r, "echo ok")
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, "ok\n", out)
				return
			}
			require.Error(t, err)
			var hk *HostKeyError
			require.ErrorAs(t, err, &hk)
			assert.Equal(t, cfg.KnownHostsFile, hk.File)
			assert.Len(t, hk.Known, tt.wantKnown)
			for _, want := range append(tt.wantErr, cfg.KnownHostsFile) {
				assert.Contains(t, err.Error(), want)
			}
			assert.Len(t, dialer.dials(), 1, "a host key failure must not be retried")
		})
	}
}

// TestSSHPinnedKnownHosts: a key pinned in PinnedKnownHosts is trusted
// besides KnownHostsFile; a pinned file that does not exist yet pins
// nothing, and a wrong pin is refused like a wrong known_hosts entry.
func TestSSHPinnedKnownHosts(t *testing.T) {
	t.Parallel()
	srv := startSSHD(t, sshdOptions{IP: "127.0.0.7"})
	user := writeKnownHosts(t, map[string]ssh.PublicKey{"127.0.0.99:22": newTestKey(t).signer.PublicKey()})
	run := func(pinned string) error {
		r := newSSHRunner(t, SSHConfig{Name: "vm", Addr: srv.Addr, User: "root", Signers: []ssh.Signer{clientKey().signer},
			KnownHostsFile: user, PinnedKnownHosts: pinned, Retry: Retry{Attempts: 1}})
		_, err := Output(t.Context(), r, "true")
		return err
	}
	assert.NoError(t, run(writeKnownHosts(t, map[string]ssh.PublicKey{srv.Addr: srv.HostKey})), "the pinned key")
	var hk *HostKeyError
	err := run(filepath.Join(t.TempDir(), "not-yet"))
	require.ErrorAs(t, err, &hk, "no pin yet: the host is unknown")
	assert.Empty(t, hk.Known)
	err = run(writeKnownHosts(t, map[string]ssh.PublicKey{srv.Addr: newTestKey(t).signer.PublicKey()}))
	require.ErrorAs(t, err, &hk)
	assert.Len(t, hk.Known, 1, "a wrong pin")
}

// x/crypto/ssh asks for ECDSA host keys before ed25519. A host with both
// whose known_hosts entry is the ed25519 one must still be accepted.
func TestSSHHostKeyAlgorithmFromKnownHosts(t *testing.T) {
	t.Parallel()
	srv := startSSHD(t, sshdOptions{IP: "127.0.0.4", ECDSA: true})
	r := newSSHRunner(t, srv.rootConfig(t))
	out, err := Output(t.Context(), r, "echo ok")
	require.NoError(t, err)
	assert.Equal(t, "ok\n", out)
}

func TestSSHAuthentication(t *testing.T) {
	t.Parallel()
	srv := startSSHD(t, sshdOptions{IP: "127.0.0.5"})
	known := srv.KnownHosts(t)

	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	require.NoError(t, os.WriteFile(keyFile, clientKey().pem, 0o600))
	stranger := newTestKey(t)

	tests := []struct {
		name    string
		cfg     SSHConfig
		wantErr string
	}{
		{name: "identity file", cfg: SSHConfig{IdentityFiles: []string{keyFile}}},
		{name: "agent", cfg: SSHConfig{Agent: true, AgentSocket: startAgent(t, clientKey())}},
		{name: "agent and file, agent key wrong", cfg: SSHConfig{Agent: true, AgentSocket: startAgent(t, stranger), IdentityFiles: []string{keyFile}}},
		{name: "signer", cfg: SSHConfig{Signers: []ssh.Signer{clientKey().signer}}},
		{name: "key not authorized", cfg: SSHConfig{Signers: []ssh.Signer{stranger.signer}}, wantErr: `login as "root" on ` + srv.Addr + " refused"},
		{name: "agent without keys", cfg: SSHConfig{Agent: true, AgentSocket: startAgent(t)}, wantErr: "refused"},
		{name: "agent socket missing", cfg: SSHConfig{Agent: true, AgentSocket: filepath.Join(t.TempDir(), "nope")}, wantErr: "ssh-agent at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dialer := &countingDialer{}
			cfg := tt.cfg
			cfg.Addr, cfg.User, cfg.KnownHostsFile, cfg.DialContext = srv.Addr, "root", known, dialer.dial
			cfg.Retry = Retry{Attempts: 5, Initial: 200 * time.Millisecond}
			r := newSSHRunner(t, cfg)
			out, err := Output(t.Context(), r, "id -un")
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, "root\n", out)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.LessOrEqual(t, len(dialer.dials()), 1, "an auth failure must not be retried")
			assert.NotContains(t, err.Error(), "PRIVATE KEY")
		})
	}
}

// startAgent serves an in-process ssh-agent holding keys on a unix socket.
func startAgent(t *testing.T, keys ...testKey) string {
	t.Helper()
	keyring := agent.NewKeyring()
	for _, k := range keys {
		require.NoError(t, keyring.Add(agent.AddedKey{PrivateKey: k.priv}))
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _ = agent.ServeAgent(keyring, c); _ = c.Close() }()
		}
	}()
	return sock
}

func TestNewSSHRejectsBadConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	known := filepath.Join(dir, "known_hosts")
	require.NoError(t, os.WriteFile(known, nil, 0o600))
	garbage := filepath.Join(dir, "garbage")
	require.NoError(t, os.WriteFile(garbage, []byte("not a key"), 0o600))
	encrypted := filepath.Join(dir, "encrypted")
	block, err := ssh.MarshalPrivateKeyWithPassphrase(clientKey().priv, "", []byte("pw"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(encrypted, pem.EncodeToMemory(block), 0o600))
	good := SSHConfig{Name: "h", Addr: "127.0.0.1", User: "root", KnownHostsFile: known, Signers: []ssh.Signer{clientKey().signer}}

	tests := []struct {
		name   string
		change func(c *SSHConfig)
		want   string
	}{
		{"no addr", func(c *SSHConfig) { c.Addr = "" }, "ssh h: Addr is empty"},
		{"bad addr", func(c *SSHConfig) { c.Addr = "a b" }, `Addr "a b"`},
		{"no user", func(c *SSHConfig) { c.User = "" }, "User is empty"},
		{"no host key policy", func(c *SSHConfig) { c.KnownHostsFile = "" }, "KnownHostsFile is empty"},
		{"both host key policies", func(c *SSHConfig) { c.InsecureIgnoreHostKey = true }, "choose one"},
		{"no credentials", func(c *SSHConfig) { c.Signers = nil }, "no credentials"},
		{"missing known_hosts", func(c *SSHConfig) { c.KnownHostsFile = filepath.Join(dir, "nope") }, "KnownHostsFile"},
		{"missing identity", func(c *SSHConfig) { c.IdentityFiles = []string{filepath.Join(dir, "nope")} }, "IdentityFiles[0]"},
		{"garbage identity", func(c *SSHConfig) { c.IdentityFiles = []string{garbage} }, "IdentityFiles[0] " + garbage + ": not a private key"},
		{"passphrase identity", func(c *SSHConfig) { c.IdentityFiles = []string{encrypted} }, "has a passphrase: load it into ssh-agent"},
		{"via and jump", func(c *SSHConfig) { c.Via = &SSH{}; c.Jump = &SSHConfig{Name: "r"} }, "ssh h: h: both Via and Jump are set"},
		{"bad jump", func(c *SSHConfig) { c.Jump = &SSHConfig{Name: "router", Addr: "10.0.0.1"} }, "ssh h: jump router: User is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tt.change(&cfg)
			_, err := NewSSH(cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "PRIVATE KEY")
		})
	}
	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		r, err := NewSSH(SSHConfig{Addr: "10.0.0.1", User: "admin", KnownHostsFile: known, Agent: true})
		require.NoError(t, err)
		assert.Equal(t, "admin@10.0.0.1:22", r.Host())
		assert.Equal(t, 10, cap(r.slots))
		r6, err := NewSSH(SSHConfig{Addr: "fd00::1", User: "admin", KnownHostsFile: known, Agent: true})
		require.NoError(t, err)
		assert.Equal(t, "admin@[fd00::1]:22", r6.Host())
	})
}

func TestExpandHome(t *testing.T) {
	t.Parallel()
	home, err := os.UserHomeDir()
	require.NoError(t, err)
	for in, want := range map[string]string{
		"~/.ssh/id_ed25519": filepath.Join(home, ".ssh/id_ed25519"),
		"/etc/ssh/x":        "/etc/ssh/x",
		"~other/x":          "~other/x",
		"":                  "",
	} {
		got, err := expandHome(in)
		require.NoError(t, err)
		assert.Equal(t, want, got, in)
	}
}

// Many concurrent commands share one TCP connection, more of them than
// sshd's MaxSessions (10) allows at once.
func TestSSHConcurrentCommandsShareOneConnection(t *testing.T) {
	t.Parallel()
	srv := startSSHD(t, sshdOptions{IP: "127.0.0.6"})
	dialer := &countingDialer{}
	cfg := srv.rootConfig(t)
	cfg.DialContext = dialer.dial
	r := newSSHRunner(t, cfg)

	const n = 60
	errs := make(chan error, n)
	for i := range n {
		go func() {
			want := strings.Repeat("x", i)
			out, err := Output(t.Context(), r, "sleep 0.1; echo "+want)
			if err == nil && out != want+"\n" {
				err = errors.New("wrong output " + out)
			}
			errs <- err
		}()
	}
	for range n {
		assert.NoError(t, <-errs)
	}
	assert.Len(t, dialer.dials(), 1, "dials")
	assert.Equal(t, 1, srv.Connections(), "TCP connections sshd accepted")
}

// A host that starts late (still booting) is reached by retrying.
func TestSSHDialRetryWaitsForLateHost(t *testing.T) {
	t.Parallel()
	srv := startSSHD(t, sshdOptions{IP: "127.0.0.7", NoStart: true})
	dialer := &countingDialer{}
	cfg := srv.rootConfig(t)
	cfg.DialContext = dialer.dial
	cfg.Retry = Retry{Attempts: 40, Initial: 50 * time.Millisecond, Max: 200 * time.Millisecond}
	var logs syncBuffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := newSSHRunner(t, cfg)

	time.AfterFunc(time.Second, srv.start)
	out, err := Output(t.Context(), r, "echo up")
	require.NoError(t, err)
	assert.Equal(t, "up\n", out)
	assert.Greater(t, len(dialer.dials()), 2, "dial attempts")
	assert.Contains(t, logs.String(), "retrying")
	assert.Contains(t, logs.String(), "connection refused")
	assert.NotContains(t, logs.String(), "PRIVATE KEY")
}

func TestSSHDialRetryStopsAtCancel(t *testing.T) {
	t.Parallel()
	addr := net.JoinHostPort("127.0.0.7", "1") // nothing listens on port 1
	cfg := SSHConfig{Addr: addr, User: "root", InsecureIgnoreHostKey: true, Signers: []ssh.Signer{clientKey().signer}}
	cfg.Retry = Retry{Attempts: 1000, Initial: 50 * time.Millisecond, Max: 100 * time.Millisecond}
	r := newSSHRunner(t, cfg)

	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := r.Run(ctx, Cmd{Command: "true"})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)

	cfg.Retry = Retry{Attempts: 3, Initial: 10 * time.Millisecond}
	r = newSSHRunner(t, cfg)
	err = r.Run(t.Context(), Cmd{Command: "true"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gave up after 3 attempts")
	assert.Contains(t, err.Error(), "connection refused")
}

// A connection that died is replaced by a new one on the next command.
func TestSSHRedialsDeadConnection(t *testing.T) {
	t.Parallel()
	srv := startSSHD(t, sshdOptions{IP: "127.0.0.8"})
	r := newSSHRunner(t, srv.rootConfig(t))
	out, err := Output(t.Context(), r, "echo $PPID")
	require.NoError(t, err)
	// Kill the sshd process serving this connection: its session process
	// is the wrapper's parent.
	err = r.Run(t.Context(), Cmd{Command: `kill -KILL "$(awk '{print $4}' /proc/$PPID/stat)"`})
	require.Error(t, err, "the connection should have died under the command")
	require.NotEmpty(t, out)

	out, err = Output(t.Context(), r, "echo again")
	require.NoError(t, err)
	assert.Equal(t, "again\n", out)
	assert.Equal(t, 2, srv.Connections())
}

func TestSSHClose(t *testing.T) {
	t.Parallel()
	srv := startSSHD(t, sshdOptions{IP: "127.0.0.8"})
	r := newSSHRunner(t, srv.rootConfig(t))
	require.NoError(t, r.Run(t.Context(), Cmd{Command: "true"}))
	require.NoError(t, r.Close())
	err := r.Run(t.Context(), Cmd{Command: "true"})
	assert.ErrorIs(t, err, ErrClosed)
}

// A host that stops answering (frozen, rebooted, cable pulled) is noticed
// by the keepalive probe; the next command dials a new connection instead
// of hanging on the dead one.
func TestSSHKeepAliveDropsSilentConnection(t *testing.T) {
	t.Parallel()
	srv := startSSHD(t, sshdOptions{IP: "127.0.0.8"})
	cfg := srv.rootConfig(t)
	cfg.KeepAlive = time.Second // slack for a loaded machine
	r := newSSHRunner(t, cfg)
	out, err := Output(t.Context(), r, `awk '{print $4}' /proc/$PPID/stat`)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	require.NoError(t, err)
	// Freeze the sshd process serving the connection: TCP stays up, the
	// server says nothing any more.
	require.NoError(t, syscall.Kill(pid, syscall.SIGSTOP))
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })

	assert.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.conn == nil || r.conn.isDead()
	}, 5*time.Second, 20*time.Millisecond, "keepalive did not drop the frozen connection")
	out, err = Output(t.Context(), r, "echo fresh")
	require.NoError(t, err)
	assert.Equal(t, "fresh\n", out)
	assert.Equal(t, 2, srv.Connections())
}

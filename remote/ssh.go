package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSHConfig says how to reach one host over SSH. The zero value of every
// optional field is a sensible default; NewSSH rejects what cannot work.
type SSHConfig struct {
	// Name is what Host reports and what errors start with ("master01").
	// Empty means "User@Addr".
	Name string
	// Addr is "host:port" or just "host" (port 22).
	Addr string
	// User is the login name. Required.
	User string

	// IdentityFiles are private-key files (OpenSSH or PEM format, without a
	// passphrase; put passphrase-protected keys in an agent). A leading "~/"
	// is the current user's home directory. They are read by NewSSH.
	IdentityFiles []string
	// Agent adds the keys held by ssh-agent at AgentSocket.
	Agent bool
	// AgentSocket is the agent's unix socket; empty means $SSH_AUTH_SOCK,
	// read when the connection is dialled.
	AgentSocket string
	// Signers are keys the program holds in memory.
	Signers []ssh.Signer

	// KnownHostsFile is an OpenSSH known_hosts file the host's key must be
	// listed in ("~/" expanded). It is read at every dial, so a file that a
	// lab rewrites is picked up. Required unless InsecureIgnoreHostKey.
	KnownHostsFile string
	// PinnedKnownHosts is a known_hosts file trusted besides KnownHostsFile:
	// host keys a program made for machines it created and pinned before
	// they booted. A file that does not exist (yet) pins nothing.
	PinnedKnownHosts string
	// InsecureIgnoreHostKey accepts any host key. It exists for throwaway
	// labs whose machines get new keys at every start; anything between
	// the client and the host can then read and change the session. Never
	// set it for real machines.
	InsecureIgnoreHostKey bool

	// Jump is the host to go through (OpenSSH's ProxyJump). Its own Jump,
	// if any, is gone through first, so a chain may be any length. The
	// hosts of a site behind a router are reached with the router as Jump.
	// Every hop is verified and authenticated with its own settings; of a
	// hop's config only Name, Addr, User, the credentials, the host key
	// settings, DialTimeout and (first hop) DialContext count: retries,
	// keepalive, sessions, sudo and logging follow the host's own config.
	Jump *SSHConfig
	// Via reaches the host (or, with Jump, the first hop of the chain)
	// through the connection of a runner that already exists — a site's
	// router — sharing that one connection with the router's own commands
	// and with every other host that names it. Set it only where Jump is
	// nil. Closing this runner leaves Via's connection open.
	Via *SSH
	// DialContext makes the TCP connection when the host (or the first hop)
	// is dialled directly; nil means a plain net.Dialer. Useful for custom
	// networks and to observe dials.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// DialTimeout bounds one attempt of one hop: TCP connect and the SSH
	// handshake. Zero means 15 seconds.
	DialTimeout time.Duration
	// Retry is how often a failed dial is tried again, for hosts that are
	// still booting. The zero value dials once. A host key that does not
	// verify and a refused login are never retried.
	Retry Retry
	// KeepAlive is how often an idle connection is probed, so one that died
	// silently (a rebooted host) is noticed and re-dialled. Zero means 30
	// seconds; negative disables probing.
	KeepAlive time.Duration
	// MaxSessions bounds the commands running at once on the connection;
	// more callers wait for a free slot. Zero means 10, OpenSSH's default
	// MaxSessions: a server refuses sessions beyond its limit.
	MaxSessions int

	// Sudo runs every command, and WriteFile and ReadFile, as root through
	// "sudo -n" (for a login user that is not root). sudo must not ask for
	// a password.
	Sudo bool

	// Logger receives debug records about dials and retries; nil discards.
	// Secrets are never logged.
	Logger *slog.Logger
}

// Retry is a bounded exponential backoff for dialling.
type Retry struct {
	// Attempts is the total number of dial attempts; 0 and 1 mean one.
	Attempts int
	// Initial is the wait after the first failure; it doubles after each
	// further failure. Zero means 500ms.
	Initial time.Duration
	// Max caps one wait. Zero means 10s.
	Max time.Duration
}

// BootRetry suits a machine that was just powered on: about two minutes of
// attempts before giving up.
var BootRetry = Retry{Attempts: 20, Initial: 500 * time.Millisecond, Max: 10 * time.Second}

// SSH runs commands on a host over one SSH connection. The connection is
// dialled on first use, shared by concurrent callers (one session per
// command) and dialled again when it has died. Close it when done.
type SSH struct {
	cfg   SSHConfig // normalised, see normalise
	hops  []*hop    // first hop first; the last one is this host
	via   *SSH      // carries the first hop, when set
	log   *slog.Logger
	slots chan struct{}

	mu      sync.Mutex
	conn    *sshConn
	dialing chan struct{} // closed when the dial in flight ends
	dialErr error         // result of the last finished dial
	// dialAbandoned says the last dial ended because its caller's ctx did.
	dialAbandoned bool
	closed        bool
}

var _ Runner = (*SSH)(nil)

// ErrClosed is returned by an SSH runner after Close.
var ErrClosed = errors.New("ssh runner closed")

// NewSSH checks cfg, and every hop of its jump chain, and reads their key
// files. It does not dial: the connection is made on first use.
func NewSSH(cfg SSHConfig) (*SSH, error) {
	var chain []SSHConfig
	seen := 0
	for c := &cfg; c != nil; c = c.Jump {
		if seen++; seen > 32 {
			return nil, fmt.Errorf("ssh %s: jump chain longer than 32 hops (a loop?)", hostName(cfg))
		}
		chain = append(chain, *c)
		if c.Via != nil && c.Jump != nil {
			return nil, fmt.Errorf("ssh %s: %s: both Via and Jump are set: put Via on the last hop of the chain", hostName(cfg), hostName(*c))
		}
	}
	s := &SSH{
		log: cfg.Logger,
		via: chain[len(chain)-1].Via,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	// Build hops from the first one dialled (the end of the Jump chain) to
	// the target.
	for i := len(chain) - 1; i >= 0; i-- {
		c, err := normalise(chain[i])
		where := hostName(chain[i])
		if i != 0 {
			where = hostName(cfg) + ": jump " + where
		}
		if err != nil {
			return nil, fmt.Errorf("ssh %s: %w", where, err)
		}
		h, err := newHop(c)
		if err != nil {
			return nil, fmt.Errorf("ssh %s: %w", where, err)
		}
		s.hops = append(s.hops, h)
	}
	s.cfg = s.hops[len(s.hops)-1].cfg
	s.slots = make(chan struct{}, s.cfg.MaxSessions)
	return s, nil
}

// normalise fills defaults and checks one hop's settings.
func normalise(c SSHConfig) (SSHConfig, error) {
	if c.Addr == "" {
		return c, errors.New("Addr is empty")
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		// Not "host:port": a bare host name or address (IPv6 without brackets too).
		h := strings.TrimSuffix(strings.TrimPrefix(c.Addr, "["), "]")
		if strings.ContainsAny(h, " /[]") {
			return c, fmt.Errorf("Addr %q: not host or host:port", c.Addr)
		}
		c.Addr = net.JoinHostPort(h, "22")
	}
	if c.User == "" {
		return c, errors.New("User is empty")
	}
	switch {
	case c.KnownHostsFile == "" && !c.InsecureIgnoreHostKey:
		return c, errors.New("KnownHostsFile is empty: set it (host keys are verified), or set InsecureIgnoreHostKey for a throwaway lab")
	case c.KnownHostsFile != "" && c.InsecureIgnoreHostKey:
		return c, errors.New("both KnownHostsFile and InsecureIgnoreHostKey are set: choose one")
	}
	if len(c.IdentityFiles) == 0 && !c.Agent && len(c.Signers) == 0 {
		return c, errors.New("no credentials: set IdentityFiles, Agent or Signers")
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 15 * time.Second
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = 30 * time.Second
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = 10
	}
	if c.Retry.Attempts < 1 {
		c.Retry.Attempts = 1
	}
	if c.Retry.Initial <= 0 {
		c.Retry.Initial = 500 * time.Millisecond
	}
	if c.Retry.Max <= 0 {
		c.Retry.Max = 10 * time.Second
	}
	if c.DialTimeout < 0 {
		return c, fmt.Errorf("DialTimeout %v is negative", c.DialTimeout)
	}
	if c.Retry.Attempts > 1000 {
		return c, fmt.Errorf("Retry.Attempts %d: more than 1000 is not a bound", c.Retry.Attempts)
	}
	var err error
	if c.KnownHostsFile, err = expandHome(c.KnownHostsFile); err != nil {
		return c, fmt.Errorf("KnownHostsFile: %w", err)
	}
	if c.PinnedKnownHosts, err = expandHome(c.PinnedKnownHosts); err != nil {
		return c, fmt.Errorf("PinnedKnownHosts: %w", err)
	}
	c.IdentityFiles = append([]string(nil), c.IdentityFiles...)
	for i, f := range c.IdentityFiles {
		if c.IdentityFiles[i], err = expandHome(f); err != nil {
			return c, fmt.Errorf("IdentityFiles[%d]: %w", i, err)
		}
	}
	if c.AgentSocket, err = expandHome(c.AgentSocket); err != nil {
		return c, fmt.Errorf("AgentSocket: %w", err)
	}
	c.Jump, c.Via = nil, nil // the chain lives in SSH.hops and SSH.via
	return c, nil
}

func hostName(c SSHConfig) string {
	if c.Name != "" {
		return c.Name
	}
	return c.User + "@" + c.Addr
}

// expandHome replaces a leading "~/" with the user's home directory.
func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("expand %q: %w", p, err)
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~")), nil
}

// Host implements Runner.
func (s *SSH) Host() string { return hostName(s.cfg) }

// Close closes the connection, if any, and makes later calls fail with
// ErrClosed. Commands still running are cut off.
func (s *SSH) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.conn != nil {
		s.conn.close()
		s.conn = nil
	}
	return nil
}

package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// hop is one host of a jump chain, its settings checked and keys loaded.
type hop struct {
	cfg     SSHConfig
	signers []ssh.Signer // from IdentityFiles and Signers
}

func newHop(c SSHConfig) (*hop, error) {
	h := &hop{cfg: c, signers: append([]ssh.Signer(nil), c.Signers...)}
	for i, f := range c.IdentityFiles {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("IdentityFiles[%d]: %w", i, err)
		}
		signer, err := ssh.ParsePrivateKey(pem)
		var missing *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &missing):
			return nil, fmt.Errorf("IdentityFiles[%d] %s: the key has a passphrase: load it into ssh-agent and set Agent", i, f)
		case err != nil:
			// The parser's message names the format problem, never key material.
			return nil, fmt.Errorf("IdentityFiles[%d] %s: not a private key: %w", i, f, err)
		}
		h.signers = append(h.signers, signer)
	}
	if c.KnownHostsFile != "" {
		if _, err := os.Stat(c.KnownHostsFile); err != nil {
			return nil, fmt.Errorf("KnownHostsFile: %w", err)
		}
	}
	return h, nil
}

// authMethods returns the hop's public-key auth; the agent connection, if
// any, must stay open until the handshake is over and is closed by done.
func (h *hop) authMethods() (methods []ssh.AuthMethod, done func(), err error) {
	signers := h.signers
	done = func() {}
	if h.cfg.Agent {
		sock := h.cfg.AgentSocket
		if sock == "" {
			sock = os.Getenv("SSH_AUTH_SOCK")
		}
		if sock == "" {
			return nil, done, errors.New("Agent is set but SSH_AUTH_SOCK is empty and AgentSocket is not set")
		}
		conn, err := net.Dial("unix", sock)
		if err != nil {
			return nil, done, fmt.Errorf("ssh-agent at %s: %w", sock, err)
		}
		done = func() { _ = conn.Close() }
		agentSigners, err := agent.NewClient(conn).Signers()
		if err != nil {
			done()
			return nil, func() {}, fmt.Errorf("ssh-agent at %s: list keys: %w", sock, err)
		}
		signers = append(append([]ssh.Signer(nil), signers...), agentSigners...)
	}
	return []ssh.AuthMethod{ssh.PublicKeys(signers...)}, done, nil
}

// dialWithRetry dials the whole chain, again after a failure that may heal
// (connection refused, timeout, reset: a host still booting), with
// exponential backoff, until Retry.Attempts is spent or ctx is done.
func (s *SSH) dialWithRetry(ctx context.Context) (*sshConn, error) {
	r := s.cfg.Retry
	wait := r.Initial
	for attempt := 1; ; attempt++ {
		c, err := s.dialChain(ctx)
		if err == nil {
			s.log.DebugContext(ctx, "ssh connected", "host", s.Host(), "attempt", attempt)
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: connect: %w", s.Host(), ctx.Err())
		}
		if attempt >= r.Attempts || !retryable(err) {
			if attempt > 1 {
				return nil, fmt.Errorf("%s: connect (gave up after %d attempts): %w", s.Host(), attempt, err)
			}
			return nil, fmt.Errorf("%s: connect: %w", s.Host(), err)
		}
		s.log.DebugContext(ctx, "ssh dial failed, retrying", "host", s.Host(), "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%s: connect (after %d attempts; last: %v): %w", s.Host(), attempt, err, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, r.Max)
	}
}

// authError marks a login the host refused.
type authError struct{ err error }

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// retryable says whether a dial error may go away by itself.
func retryable(err error) bool {
	var hk *HostKeyError
	var auth *authError
	var cfg *configError
	return !errors.As(err, &hk) && !errors.As(err, &auth) && !errors.As(err, &cfg)
}

// configError marks a problem with the settings or local files.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// dialChain connects to the first hop, through it to the next, and so on
// to the host. On failure everything opened so far is closed.
func (s *SSH) dialChain(ctx context.Context) (*sshConn, error) {
	var chain []*ssh.Client
	closeAll := func() {
		for i := len(chain) - 1; i >= 0; i-- {
			_ = chain[i].Close()
		}
	}
	for i, h := range s.hops {
		var client *ssh.Client
		var err error
		if i == 0 {
			client, err = s.dialFirst(ctx)
		} else {
			client, err = h.dial(ctx, chain[i-1])
		}
		if err != nil {
			closeAll()
			if i < len(s.hops)-1 {
				return nil, fmt.Errorf("jump %s: %w", hostName(h.cfg), err)
			}
			return nil, err
		}
		chain = append(chain, client)
	}
	return newSSHConn(chain[len(chain)-1], chain[:len(chain)-1], s.cfg.KeepAlive), nil
}

// dialFirst connects to the first hop: directly, or through the Via
// runner's connection. A Via connection that turns out to have died (its
// death not yet noticed) is dropped and dialled again, once.
func (s *SSH) dialFirst(ctx context.Context) (*ssh.Client, error) {
	first := s.hops[0]
	if s.via == nil {
		return first.dial(ctx, nil)
	}
	for redialled := false; ; redialled = true {
		c, err := s.via.connection(ctx)
		if err != nil {
			return nil, fmt.Errorf("via %w", err) // err names the via host
		}
		client, err := first.dial(ctx, c.client)
		var lost *viaLostError
		if err == nil || redialled || !errors.As(err, &lost) {
			return client, err
		}
		s.via.forget(c)
	}
}

// viaLostError marks a failed tunnel through a connection that has died,
// as opposed to a host the jump could not reach.
type viaLostError struct{ err error }

func (e *viaLostError) Error() string { return e.err.Error() }
func (e *viaLostError) Unwrap() error { return e.err }

// dial connects to the hop, directly when via is nil, else through via.
func (h *hop) dial(ctx context.Context, via *ssh.Client) (*ssh.Client, error) {
	addr := h.cfg.Addr
	check, algos, err := h.hostKeyCheck(addr)
	if err != nil {
		return nil, &configError{err}
	}
	auth, authDone, err := h.authMethods()
	if err != nil {
		return nil, &configError{err}
	}
	defer authDone()

	ctx, cancel := context.WithTimeout(ctx, h.cfg.DialTimeout)
	defer cancel()
	var conn net.Conn
	switch {
	case via != nil:
		conn, err = via.DialContext(ctx, "tcp", addr)
	case h.cfg.DialContext != nil:
		conn, err = h.cfg.DialContext(ctx, "tcp", addr)
	default:
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	var rejected *ssh.OpenChannelError
	if err != nil && via != nil && ctx.Err() == nil && !errors.As(err, &rejected) {
		return nil, &viaLostError{fmt.Errorf("dial %s: %w", addr, err)}
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	// The handshake does not take a ctx: bound it by closing the connection.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	config := &ssh.ClientConfig{
		User:              h.cfg.User,
		Auth:              auth,
		HostKeyCallback:   check,
		HostKeyAlgorithms: algos,
		Timeout:           h.cfg.DialTimeout,
	}
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, config)
	if !stop() {
		if err == nil {
			_ = sc.Close()
		}
		_ = conn.Close()
		return nil, fmt.Errorf("ssh handshake with %s: %w", addr, ctx.Err())
	}
	if err != nil {
		_ = conn.Close()
		var hk *HostKeyError
		if errors.As(err, &hk) {
			return nil, hk
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, &authError{fmt.Errorf("login as %q on %s refused (public key not accepted): %w", h.cfg.User, addr, err)}
		}
		return nil, fmt.Errorf("ssh handshake with %s: %w", addr, err)
	}
	return ssh.NewClient(sc, chans, reqs), nil
}

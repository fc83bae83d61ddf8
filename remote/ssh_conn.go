package remote

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// sshConn is one live connection to the host and the jump connections
// that carry it.
type sshConn struct {
	client *ssh.Client   // the host
	chain  []*ssh.Client // jump hops, first hop first
	dead   chan struct{} // closed once the connection has ended
	once   sync.Once
}

func newSSHConn(client *ssh.Client, chain []*ssh.Client, keepAlive time.Duration) *sshConn {
	c := &sshConn{client: client, chain: chain, dead: make(chan struct{})}
	go func() {
		_ = client.Wait()
		c.close()
	}()
	if keepAlive > 0 {
		go c.keepAlive(keepAlive)
	}
	return c
}

// keepAlive closes the connection when the host stops answering, so the
// next caller dials a new one instead of hanging on a dead TCP stream.
func (c *sshConn) keepAlive(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.dead:
			return
		case <-t.C:
		}
		answered := make(chan error, 1)
		go func() {
			_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
			answered <- err
		}()
		select {
		case <-c.dead:
			return
		case err := <-answered:
			if err != nil {
				c.close()
				return
			}
		case <-time.After(every):
			c.close()
			return
		}
	}
}

func (c *sshConn) isDead() bool {
	select {
	case <-c.dead:
		return true
	default:
		return false
	}
}

func (c *sshConn) close() {
	c.once.Do(func() {
		_ = c.client.Close()
		for i := len(c.chain) - 1; i >= 0; i-- {
			_ = c.chain[i].Close()
		}
		close(c.dead)
	})
}

// connection returns the live connection, dialling it if there is none.
// Concurrent callers share one dial. A caller whose own ctx is fine does
// not inherit another caller's cancellation.
func (s *SSH) connection(ctx context.Context) (*sshConn, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, fmt.Errorf("%s: %w", s.Host(), ErrClosed)
		}
		if s.conn != nil && !s.conn.isDead() {
			c := s.conn
			s.mu.Unlock()
			return c, nil
		}
		if wait := s.dialing; wait != nil {
			s.mu.Unlock()
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("%s: connect: %w", s.Host(), ctx.Err())
			case <-wait:
			}
			s.mu.Lock()
			err, abandoned := s.dialErr, s.dialAbandoned
			s.mu.Unlock()
			if err != nil && !abandoned {
				return nil, err
			}
			continue // connected, or the dialler gave up on its own ctx
		}
		done := make(chan struct{})
		s.dialing = done
		s.conn = nil
		s.mu.Unlock()

		c, err := s.dialWithRetry(ctx)

		s.mu.Lock()
		s.dialing, s.dialErr, s.dialAbandoned = nil, err, ctx.Err() != nil
		if err == nil {
			if s.closed {
				c.close()
				err = fmt.Errorf("%s: %w", s.Host(), ErrClosed)
			} else {
				s.conn = c
			}
		}
		s.mu.Unlock()
		close(done)
		return c, err
	}
}

// forget drops c if it is still the current connection, so the next caller
// dials a new one.
func (s *SSH) forget(c *sshConn) {
	c.close()
	s.mu.Lock()
	if s.conn == c {
		s.conn = nil
	}
	s.mu.Unlock()
}

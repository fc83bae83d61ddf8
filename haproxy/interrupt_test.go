package haproxy

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// interrupter passes commands to a runner until one containing after has
// run; then it interrupts the apply the way an operator or the network
// does. With cancel set it cancels the apply's context (Ctrl-C, a
// timeout); without, the connection is gone and nothing more reaches the
// host (planetstage killed, the SSH session lost).
type interrupter struct {
	remote.Runner
	after  string
	cancel context.CancelFunc

	mu      sync.Mutex
	tripped bool
}

var errLost = errors.New("interrupter: connection lost")

func (i *interrupter) lost() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.tripped && i.cancel == nil
}

func (i *interrupter) reached() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.tripped
}

func (i *interrupter) Run(ctx context.Context, c remote.Cmd) error {
	if i.lost() {
		return errLost
	}
	err := i.Runner.Run(ctx, c)
	i.mu.Lock()
	defer i.mu.Unlock()
	if !i.tripped && strings.Contains(c.Command, i.after) {
		i.tripped = true
		if i.cancel != nil {
			i.cancel()
		}
	}
	return err
}

func (i *interrupter) WriteFile(ctx context.Context, path string, data []byte, mode fs.FileMode) error {
	if i.lost() {
		return errLost
	}
	return i.Runner.WriteFile(ctx, path, data, mode)
}

func (i *interrupter) ReadFile(ctx context.Context, path string) ([]byte, error) {
	if i.lost() {
		return nil, errLost
	}
	return i.Runner.ReadFile(ctx, path)
}

// TestLoopbackInterruptedApplyConverges interrupts an Apply of a new
// config at the points where the file and the running HAProxy can part:
// right after the new file is moved into place, and right after the
// reload. Whatever the interruption left, the next Inspect must not call it
// a no-op while the old config serves, and the next Apply must make the new
// config serve and be reported in sync.
func TestLoopbackInterruptedApplyConverges(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		after  string // the command after which the apply stops
		cancel bool   // cancel its context; otherwise the connection is lost
		// oldServes: the old config still serves after the interruption,
		// so the next Inspect must report an update.
		oldServes bool
	}{
		{"cancelled after the swap", "mv -f", true, true},
		{"connection lost after the swap", "mv -f", false, true},
		{"connection lost after the reload", "kill -USR2", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pki := newTestPKI(t)
			apis := threeAPIServers(t, pki)
			lb, three := startLB(t, pki, KubeAPIOptions{Servers: servers(apis...), Inter: testInter})
			lb.waitAllUp(t, "master01", "master02", "master03")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			one := three
			one.Backends = []Backend{three.Backends[0]}
			one.Backends[0].Servers = servers(apis[0])

			applyCtx, stop := context.WithCancel(ctx)
			defer stop()
			cut := &interrupter{Runner: lb.svc.Runner, after: tc.after}
			if tc.cancel {
				cut.cancel = stop
			}
			before, err := os.ReadFile(lb.svc.ConfigPath)
			require.NoError(t, err)
			interrupted := *lb.svc
			interrupted.Runner = cut
			require.Error(t, interrupted.Apply(applyCtx, one), "the apply was interrupted")
			require.True(t, cut.reached(), "the interruption point %q was reached", tc.after)
			if tc.cancel {
				after, err := os.ReadFile(lb.svc.ConfigPath)
				require.NoError(t, err)
				assert.Equal(t, string(before), string(after), "the old config is restored although the apply's context was cancelled")
			}

			if tc.oldServes {
				// The negative control: the interruption did leave the old
				// config serving, so a no-op would be wrong.
				assert.Equal(t, 3, len(lb.spread(6)), "the old config (three servers) still serves")
				c, err := lb.svc.Inspect(ctx, one)
				require.NoError(t, err)
				assert.Equal(t, plan.Update, c.Action, "after the interruption: %s", c.Reason)
			}

			require.NoError(t, lb.svc.Apply(ctx, one), "the next apply converges")
			deadline := time.Now().Add(10 * time.Second)
			for {
				got := lb.spread(6)
				if got["master01"] == 6 {
					break
				}
				require.True(t, time.Now().Before(deadline), "the new config does not serve: %v", got)
				time.Sleep(50 * time.Millisecond)
			}
			c, err := lb.svc.Inspect(ctx, one)
			require.NoError(t, err)
			assert.Equal(t, plan.NoOp, c.Action, c.Reason)
			// Apply reloads even when nothing changed; what serves after it
			// is the new config alone.
			require.NoError(t, lb.svc.Apply(ctx, one))
			assert.Equal(t, map[string]int{"master01": 3}, lb.answers(t, 3, 10*time.Second))
		})
	}
}

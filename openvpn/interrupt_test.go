package openvpn_test

import (
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/openvpn/openvpntest"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/tunnel"
)

// cutAt passes everything to a runner until a command containing at comes;
// from then on nothing reaches the host, as when planetstage is killed or
// the SSH session is lost.
type cutAt struct {
	remote.Runner
	at string

	mu  sync.Mutex
	cut bool
}

var errCut = errors.New("cutAt: connection lost")

func (c *cutAt) lost(command string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = c.cut || strings.Contains(command, c.at)
	return c.cut
}

func (c *cutAt) Run(ctx context.Context, cmd remote.Cmd) error {
	if c.lost(cmd.Command) {
		return errCut
	}
	return c.Runner.Run(ctx, cmd)
}

func (c *cutAt) WriteFile(ctx context.Context, path string, data []byte, mode fs.FileMode) error {
	if c.lost("") {
		return errCut
	}
	return c.Runner.WriteFile(ctx, path, data, mode)
}

func (c *cutAt) ReadFile(ctx context.Context, path string) ([]byte, error) {
	if c.lost("") {
		return nil, errCut
	}
	return c.Runner.ReadFile(ctx, path)
}

// TestRealOpenVPNInterruptedApplyConverges changes a running router's
// config and cuts the apply after the new files are written, before the
// daemon is restarted: the old config keeps running under files that equal
// the new one. The next Inspect must not call that in sync, and the next
// Apply must restart the daemon.
func TestRealOpenVPNInterruptedApplyConverges(t *testing.T) {
	openvpntest.RequireNetns(t)
	t.Parallel()
	ctx := t.Context()
	l := openvpntest.New(t, 2)
	spec := tunnel.Spec{Sites: l.Sites, Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: 1194}
	opts := openvpn.Options{Keepalive: openvpn.Keepalive{Interval: 1, Restart: 5}}
	m := newModel(t, spec, opts)
	keys, err := openvpn.LoadKeys(secret.NewDir(t.TempDir()), m)
	require.NoError(t, err)
	for i := range l.Sites {
		require.NoError(t, linuxRouter(l, m, keys, i).Apply(ctx, l.Router(i)))
	}
	l.PingAll(t, 30*time.Second)

	opts.Keepalive.Restart = 6
	m2 := newModel(t, spec, opts)
	lr, r := linuxRouter(l, m2, keys, 0), l.Router(0)
	before := openvpntest.Sh(t, "cat %s/run/*.pid", l.Dirs[0])
	cut := &cutAt{Runner: r, at: `kill "$p"`} // the restart's first step
	require.ErrorIs(t, lr.Apply(ctx, cut), errCut)
	d, err := lr.Inspect(ctx, r)
	require.NoError(t, err)
	// The negative control: the files are new, the daemon is the old one.
	for _, f := range d.Reasons {
		require.NotContains(t, f, "write ", "the files were written before the cut")
	}
	require.Equal(t, before, openvpntest.Sh(t, "cat %s/run/*.pid", l.Dirs[0]), "the daemon was not restarted")
	assert.False(t, d.InSync(), "the old config runs")
	assert.Contains(t, strings.Join(d.Reasons, "\n"), "restart openvpn vtun0")

	require.NoError(t, lr.Apply(ctx, r))
	assert.NotEqual(t, before, openvpntest.Sh(t, "cat %s/run/*.pid", l.Dirs[0]), "the next apply restarted it")
	d, err = lr.Inspect(ctx, r)
	require.NoError(t, err)
	assert.True(t, d.InSync(), "%v", d.Reasons)
	require.NoError(t, linuxRouter(l, m2, keys, 1).Apply(ctx, l.Router(1)))
	l.PingAll(t, 40*time.Second)
}

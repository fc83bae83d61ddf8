package layer

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/kubeadm/kubeadmtest"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/topology"
)

// A tunnel's probe passes once a ping through it answers, within its
// bound; one that never answers fails its step, naming the tunnel, so an
// apply does not report success for a testbed that carries no traffic.
func TestTunnelProbe(t *testing.T) {
	t.Parallel()
	topo := routersTopology(topology.RouterLinux, topology.RouterLinux)
	resolved, err := topo.Resolve()
	require.NoError(t, err)
	st, err := topology.OpenState(t.TempDir())
	require.NoError(t, err)

	var pings atomic.Int32
	answering := kubeadmtest.NewFakeHosts(func(_, command string) kubeadmtest.Reply {
		if strings.HasPrefix(command, "ping ") && pings.Add(1) < 3 {
			return kubeadmtest.Reply{Status: 1} // still shaking hands
		}
		return kubeadmtest.Reply{}
	})
	env := &Env{State: st, Dial: answering.Dial, TunnelProbe: 10 * time.Second}
	rs, err := newRouters(resolved, env)
	require.NoError(t, err)
	probe := tunnelProbe(resolved, env, rs.model.Tunnels[0])
	assert.Equal(t, topology.TunnelID("site-b", "site-a"), probe.ID)
	assert.Equal(t, []string{topology.RouterID("r1"), topology.RouterID("r2")}, probe.Deps)
	require.NoError(t, probe.Step.Apply(t.Context(), plan.Change{}))
	assert.Contains(t, answering.Commands(), "r1 ping -n -q -c 1 -W 2 10.255.0.2", "from one end to the other's transit address")
	c, err := probe.Step.Inspect(t.Context())
	require.NoError(t, err)
	assert.Equal(t, plan.NoOp, c.Action, c.Reason)

	silent := kubeadmtest.NewFakeHosts(func(string, string) kubeadmtest.Reply { return kubeadmtest.Reply{Status: 1} })
	env = &Env{State: st, Dial: silent.Dial, TunnelProbe: 1500 * time.Millisecond}
	probe = tunnelProbe(resolved, env, rs.model.Tunnels[0])
	c, err = probe.Step.Inspect(t.Context())
	require.NoError(t, err)
	assert.Equal(t, plan.Update, c.Action, "a plan says the tunnel carries nothing")
	err = probe.Step.Apply(t.Context(), plan.Change{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tunnel site-a–site-b: r1 got no answer from 10.255.0.2 through it in 1.5s")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, probe.Step.Apply(ctx, plan.Change{}), context.Canceled)

	// Cancelled while waiting, it says so, not that the bound ran out.
	for range 20 { // the select it fixes picked at random
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(10*time.Millisecond, cancel)
		err := probe.Step.Apply(ctx, plan.Change{})
		require.ErrorIs(t, err, context.Canceled)
		require.NotContains(t, err.Error(), "got no answer")
	}
}

package kubeadm

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/kubeadm/kubeadmtest"
)

// TestWaitAPIAsksUntilTheAPIAnswers: with master01 stopped and the API
// answering only from the third probe on, WaitAPI keeps asking and says
// which control plane got the answer; when it never answers, the error is
// the last probe's; a cancelled context stops the wait at once.
func TestWaitAPIAsksUntilTheAPIAnswers(t *testing.T) {
	t.Parallel()
	var probes atomic.Int32
	script := func(_, command string) kubeadmtest.Reply {
		if strings.Contains(command, "/readyz") && probes.Add(1) >= 3 {
			return kubeadmtest.Reply{Stdout: "ok"}
		}
		return kubeadmtest.Reply{Status: 1, Stderr: "the connection to the server was refused"}
	}
	b, hosts, _ := newTestBootstrapper(t, script)
	b.PollInterval = 10 * time.Millisecond
	hosts.SetDown("master01", true)
	via, err := b.WaitAPI(t.Context(), 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "master02", via)
	assert.GreaterOrEqual(t, probes.Load(), int32(3))

	never := func(string, string) kubeadmtest.Reply {
		return kubeadmtest.Reply{Status: 1, Stderr: "readyz check failed"}
	}
	b, _, _ = newTestBootstrapper(t, never)
	b.PollInterval = 10 * time.Millisecond
	_, err = b.WaitAPI(t.Context(), 100*time.Millisecond)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "after 100ms")
	assert.Contains(t, err.Error(), "readyz check failed")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	_, err = b.WaitAPI(ctx, time.Hour)
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	assert.Less(t, time.Since(start), time.Second)
}

// TestWaitControlPlaneAsksTheNodesOwnAPIServer: the probe goes to the
// master's own address, not through the load balancer, and only a control
// plane can be waited for.
func TestWaitControlPlaneAsksTheNodesOwnAPIServer(t *testing.T) {
	t.Parallel()
	b, hosts, _ := newTestBootstrapper(t, func(_, command string) kubeadmtest.Reply {
		if strings.Contains(command, "/readyz") {
			return kubeadmtest.Reply{Stdout: "ok"}
		}
		return kubeadmtest.Reply{}
	})
	require.NoError(t, b.WaitControlPlane(t.Context(), "master02", time.Second))
	found := false
	for _, c := range hosts.Commands() {
		if strings.HasPrefix(c, "master02 ") && strings.Contains(c, "--server https://192.168.10.102:6443") {
			found = true
		}
	}
	assert.True(t, found, "asked master02's own API server: %v", hosts.Commands())
	assert.ErrorContains(t, b.WaitControlPlane(t.Context(), "node01", time.Second), "not a control plane")
}

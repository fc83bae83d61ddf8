package haproxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/planetstage/planetstage/plan"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoopbackReloadKeepsConnections walks a real HAProxy through a
// control-plane change: Inspect sees the difference, Apply reloads the
// master in place, a connection opened before the reload keeps working,
// new connections follow the new config, and a stopped HAProxy is
// reported and started again.
func TestLoopbackReloadKeepsConnections(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	apis := threeAPIServers(t, pki)
	lb, three := startLB(t, pki, KubeAPIOptions{Servers: servers(apis...), Inter: testInter})
	lb.waitAllUp(t, "master01", "master02", "master03")
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	c, err := lb.svc.Inspect(ctx, three)
	require.NoError(t, err)
	assert.Equal(t, plan.NoOp, c.Action, c.Reason)

	// The control plane shrinks to master01.
	one := three
	one.Backends = []Backend{three.Backends[0]}
	one.Backends[0].Servers = servers(apis[0])
	c, err = lb.svc.Inspect(ctx, one)
	require.NoError(t, err)
	assert.Equal(t, plan.Update, c.Action)
	assert.Contains(t, c.Reason, "-server master02")

	// A keep-alive connection opened before the reload.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: pki.client, MaxConnsPerHost: 1}}
	get := func() (name string, reused bool, err error) {
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, "https://"+lb.front.String()+"/", nil)
		require.NoError(t, err)
		resp, err := client.Do(req)
		if err != nil {
			return "", reused, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), reused, err
	}
	before, _, err := get()
	require.NoError(t, err)

	pid := pidOf(t, lb.svc)
	require.NoError(t, lb.svc.Apply(ctx, one))
	assert.Equal(t, pid, pidOf(t, lb.svc), "the master reloaded in place")

	after, reused, err := get()
	require.NoError(t, err, "the connection from before the reload still works")
	assert.True(t, reused, "same connection")
	assert.Equal(t, before, after, "still the same server behind it")

	deadline := time.Now().Add(5 * time.Second)
	for {
		got := lb.spread(6)
		if got["master01"] == 6 {
			break
		}
		require.True(t, time.Now().Before(deadline), "new connections still spread after reload: %v", got)
		time.Sleep(50 * time.Millisecond)
	}
	c, err = lb.svc.Inspect(ctx, one)
	require.NoError(t, err)
	assert.Equal(t, plan.NoOp, c.Action, c.Reason)

	require.NoError(t, lb.svc.Stop(ctx))
	running, err := lb.svc.Running(ctx)
	require.NoError(t, err)
	assert.False(t, running)
	c, err = lb.svc.Inspect(ctx, one)
	require.NoError(t, err)
	assert.Equal(t, plan.Update, c.Action)
	assert.Contains(t, c.Reason, "not running")

	require.NoError(t, lb.svc.Apply(ctx, one), "apply starts it again")
	name, err := lb.who()
	require.NoError(t, err)
	assert.Equal(t, "master01", name)

	c, err = lb.svc.InspectRemove(ctx)
	require.NoError(t, err)
	assert.Equal(t, plan.Delete, c.Action, c.Reason)
	require.NoError(t, lb.svc.Remove(ctx))
	assert.NoFileExists(t, lb.svc.ConfigPath)
	running, err = lb.svc.Running(ctx)
	require.NoError(t, err)
	assert.False(t, running, "removed means stopped")
	c, err = lb.svc.InspectRemove(ctx)
	require.NoError(t, err)
	assert.Equal(t, plan.NoOp, c.Action, "a second destroy has nothing to do")
}

// TestLoopbackReplacesPlainDaemon starts HAProxy the way Debian's init
// script does on a host without systemd (a plain daemon, not
// master-worker) and checks that Apply replaces it with a master-worker
// through -sf: the old process leaves, the new one serves the new config.
func TestLoopbackReplacesPlainDaemon(t *testing.T) {
	t.Parallel()
	bin := requireHAProxy(t)
	pki := newTestPKI(t)
	apis := threeAPIServers(t, pki)
	lb, three := startLB(t, pki, KubeAPIOptions{Servers: servers(apis...), Inter: testInter})
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	// Swap the master-worker startLB began for a plain daemon on the same
	// files, as the package's init script would have left it.
	require.NoError(t, lb.svc.Stop(ctx))
	out, err := exec.CommandContext(ctx, bin, "-D", "-p", lb.svc.PIDFile, "-f", lb.svc.ConfigPath).CombinedOutput()
	require.NoError(t, err, "%s", out)
	plain := pidOf(t, lb.svc)
	plainPID, err := strconv.Atoi(plain)
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Kill(plainPID, syscall.SIGKILL) }) // only if the test failed before replacing it
	lb.waitAllUp(t, "master01", "master02", "master03")

	one := three
	one.Backends = []Backend{three.Backends[0]}
	one.Backends[0].Servers = servers(apis[2])
	require.NoError(t, lb.svc.Apply(ctx, one))
	assert.NotEqual(t, plain, pidOf(t, lb.svc), "a new master took over")

	applied := time.Now()
	deadline := applied.Add(10 * time.Second)
	for !processGone(plainPID) {
		require.True(t, time.Now().Before(deadline), "the plain daemon %d is still running", plainPID)
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("plain daemon gone %v after the apply", time.Since(applied))
	got := lb.spread(3)
	assert.Equal(t, map[string]int{"master03": 3}, got, "the new config serves")
}

// TestLoopbackReloadFailureRollsBack applies a config that haproxy -c
// accepts but the master cannot load (its stats port is taken, which -c
// does not check): Apply fails, the old config file is back, the old
// workers keep serving.
func TestLoopbackReloadFailureRollsBack(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	apis := threeAPIServers(t, pki)
	lb, good := startLB(t, pki, KubeAPIOptions{Servers: servers(apis...), Inter: testInter})
	lb.waitAllUp(t, "master01", "master02", "master03")
	before, err := os.ReadFile(lb.svc.ConfigPath)
	require.NoError(t, err)
	pid := pidOf(t, lb.svc)

	taken, err := net.Listen("tcp", "127.0.0.1:0") // no SO_REUSEPORT: HAProxy cannot share it
	require.NoError(t, err)
	defer taken.Close()
	bad := good
	stats := *good.Stats
	stats.Bind = netip.MustParseAddrPort(taken.Addr().String())
	bad.Stats = &stats
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	err = lb.svc.Apply(ctx, bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "started no new worker")

	after, err := os.ReadFile(lb.svc.ConfigPath)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "old config restored")
	assert.Equal(t, pid, pidOf(t, lb.svc))
	assert.Equal(t, map[string]int{"master01": 1, "master02": 1, "master03": 1}, lb.spread(3), "old workers still serve")
}

package haproxy

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests run the real haproxy binary on loopback in front of three Go
// TLS servers that stand in for kube-apiservers (they answer /readyz and
// name themselves on /). Nothing leaves 127.0.0.0/8.

const testInter = 200 * time.Millisecond

// slack covers polling and scheduling on a busy two-core machine (load
// above 10 while these were written); the measured times are logged, and
// were about 0.55s for fall×inter = 0.6s and 0.35s for rise×inter = 0.4s.
const slack = 2 * time.Second

func TestLoopbackSpreadsOverAllServers(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	apis := threeAPIServers(t, pki)
	// The socket's directory does not exist yet, as /run/haproxy after a
	// reboot without systemd: Apply creates it.
	sock := filepath.Join(t.TempDir(), "run", "admin.sock")
	lb, _ := startLB(t, pki, KubeAPIOptions{Servers: servers(apis...), Inter: testInter, StatsSocket: sock})
	lb.waitAllUp(t, "master01", "master02", "master03")
	assert.FileExists(t, sock)

	got := lb.spread(30)
	assert.Equal(t, map[string]int{"master01": 10, "master02": 10, "master03": 10}, got, "round robin over new connections")

	resp, err := http.Get("http://" + lb.stats.String() + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "health endpoint with servers up")
}

func TestLoopbackHealthCheckTakesServerOutAndBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		break_  func(*apiServer)
		restore func(*apiServer) error
	}{
		{
			name:    "readyz answers 500",
			break_:  func(a *apiServer) { a.ready.Store(http.StatusInternalServerError) },
			restore: func(a *apiServer) error { a.ready.Store(http.StatusOK); return nil },
		},
		{
			name:    "server stops",
			break_:  func(a *apiServer) { a.stop() },
			restore: func(a *apiServer) error { return a.start() },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pki := newTestPKI(t)
			apis := threeAPIServers(t, pki)
			const rise, fall = 2, 3
			// With a CA file, so the check's certificate verification is
			// exercised against real HAProxy too.
			lb, _ := startLB(t, pki, KubeAPIOptions{Servers: servers(apis...), Inter: testInter, Rise: rise, Fall: fall, CAFile: pki.caFile})
			lb.waitAllUp(t, "master01", "master02", "master03")

			tt.break_(apis[1])
			down := lb.waitStatus(t, "master02", "DOWN", fall*testInter+slack)
			t.Logf("master02 out of rotation after %v (fall×inter = %v)", down, fall*testInter)
			got := lb.spread(12)
			assert.Equal(t, map[string]int{"master01": 6, "master03": 6}, got, "no traffic to the failed server")

			require.NoError(t, tt.restore(apis[1]))
			up := lb.waitStatus(t, "master02", "UP", rise*testInter+slack)
			t.Logf("master02 back after %v (rise×inter = %v)", up, rise*testInter)
			got = lb.spread(12)
			// Where a returning server re-enters the round robin is HAProxy's
			// business; that it gets traffic again is the claim.
			assert.Positive(t, got["master02"], "traffic back on the recovered server: %v", got)
			assert.Zero(t, got[""], "failed requests: %v", got)
		})
	}
}

// TestLoopbackRedispatch kills a server before the health check can notice
// (inter 1m) and sends requests at once: with redispatch none fails, both
// when the process died (connection refused) and when the whole host went
// silent (SYNs unanswered until the connect timeout). The case without
// redispatch shows the test would catch the failure.
func TestLoopbackRedispatch(t *testing.T) {
	t.Parallel()
	const connectTimeout = 300 * time.Millisecond
	tests := []struct {
		name       string
		redispatch bool
		silent     bool
		requests   int
	}{
		{"process dies, redispatch on", true, false, 9},
		{"host goes silent, redispatch on", true, true, 6},
		// Each failure costs three 1s retries on the dead server: keep it short.
		{"process dies, redispatch off", false, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pki := newTestPKI(t)
			apis := threeAPIServers(t, pki)
			lb, _ := startLB(t, pki, KubeAPIOptions{Servers: servers(apis...), Inter: time.Minute, NoRedispatch: !tt.redispatch, ConnectTimeout: connectTimeout})
			require.Equal(t, map[string]int{"master01": 1, "master02": 1, "master03": 1}, lb.spread(3), "all up before the kill")

			apis[1].stop()
			if tt.silent {
				silentHost(t, apis[1].addr)
			}
			start := time.Now()
			got := lb.spread(tt.requests)
			took := time.Since(start)
			t.Logf("%d requests with a dead server: %v in %v", tt.requests, got, took)
			if tt.silent {
				assert.GreaterOrEqual(t, took, connectTimeout, "the silent host made HAProxy wait for the connect timeout at least once")
			}
			st, err := lb.status("master02")
			require.NoError(t, err)
			// "UP 1/3" is how HAProxy shows a server before its first check.
			require.True(t, strings.HasPrefix(st, "UP"), "status %q: the health check must not have noticed yet, or this tests nothing", st)
			if tt.redispatch {
				assert.Zero(t, got[""], "failed requests")
				assert.Equal(t, tt.requests, got["master01"]+got["master03"])
			} else {
				assert.Positive(t, got[""], "without redispatch the dead server's turns fail")
			}
		})
	}
}

func TestLoopbackBadConfigRefusedOldKeepsServing(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	apis := threeAPIServers(t, pki)
	lb, good := startLB(t, pki, KubeAPIOptions{Servers: servers(apis...), Inter: testInter})
	lb.waitAllUp(t, "master01", "master02", "master03")
	pid := pidOf(t, lb.svc)
	before, err := os.ReadFile(lb.svc.ConfigPath)
	require.NoError(t, err)

	// Valid to the model, refused by HAProxy: the CA file does not exist.
	bad := good
	bad.Backends = []Backend{good.Backends[0]}
	check := *good.Backends[0].Check
	check.CAFile = "/nonexistent/planetstage-ca.crt"
	bad.Backends[0].Check = &check
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = lb.svc.Apply(ctx, bad)
	var verr *ValidationError
	require.True(t, errors.As(err, &verr), "want a ValidationError, got %v", err)
	assert.Contains(t, err.Error(), "/nonexistent/planetstage-ca.crt", "haproxy's own message names the file")
	assert.Contains(t, verr.Output, "ALERT")

	after, err := os.ReadFile(lb.svc.ConfigPath)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "installed config untouched")
	assert.NoFileExists(t, lb.svc.ConfigPath+".planetstage-new")
	assert.Equal(t, pid, pidOf(t, lb.svc), "same master")
	running, err := lb.svc.Running(ctx)
	require.NoError(t, err)
	assert.True(t, running)
	name, err := lb.who()
	require.NoError(t, err, "still serving")
	assert.NotEmpty(t, name)
}

// TestLoopbackCheckVerifiesCA points the check's CA file at a different CA:
// every server fails its check, and the health endpoint reports 503.
func TestLoopbackCheckVerifiesCA(t *testing.T) {
	t.Parallel()
	pki, other := newTestPKI(t), newTestPKI(t)
	apis := threeAPIServers(t, pki)
	lb, _ := startLB(t, pki, KubeAPIOptions{Servers: servers(apis...), Inter: testInter, Fall: 1, CAFile: other.caFile})
	for _, a := range apis {
		lb.waitStatus(t, a.name, "DOWN", 10*time.Second)
	}
	resp, err := http.Get("http://" + lb.stats.String() + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "health endpoint with no server up")
	_, err = lb.who()
	assert.Error(t, err, "no server to send a client to")
}

package haproxy

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/planetstage/planetstage/remote"
	"github.com/stretchr/testify/require"
)

// requireHAProxy skips a test that needs the real haproxy binary.
func requireHAProxy(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("haproxy")
	if err != nil {
		for _, p := range []string{"/usr/sbin/haproxy", "/usr/local/sbin/haproxy"} {
			if _, serr := os.Stat(p); serr == nil {
				return p
			}
		}
		t.Skip("haproxy is not installed (apt-get install haproxy): " + err.Error())
	}
	return path
}

// loopbackLB is a real HAProxy on loopback in front of apiServers.
type loopbackLB struct {
	svc   *Service
	front netip.AddrPort
	stats netip.AddrPort
	pki   testPKI
}

// startLB renders opts (with loopback listeners filled in) and applies it
// with a Service on this machine, as master-worker with files in a temp dir.
func startLB(t *testing.T, pki testPKI, opts KubeAPIOptions) (*loopbackLB, Config) {
	t.Helper()
	requireHAProxy(t)
	opts.Bind = freeAddr(t, testIP())
	opts.StatsBind = freeAddr(t, testIP())
	opts.Unprivileged = true
	if opts.StatsSocket == "" {
		opts.StatsSocket = "-"
	}
	cfg, err := KubeAPIServer(opts)
	require.NoError(t, err)
	dir := t.TempDir()
	lb := &loopbackLB{
		svc: &Service{
			Runner:     &remote.Local{},
			ConfigPath: filepath.Join(dir, "haproxy.cfg"),
			PIDFile:    filepath.Join(dir, "haproxy.pid"),
			Manager:    ManagerMasterWorker,
		},
		front: opts.Bind,
		stats: opts.StatsBind,
		pki:   pki,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, lb.svc.Apply(ctx, cfg))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := lb.svc.Stop(ctx); err != nil {
			t.Errorf("stop haproxy: %v", err)
		}
		// Stop must leave nothing behind; kill strays (ours: they name our
		// temp config) so a failure here does not leak into other tests.
		for _, pid := range processesWith(lb.svc.ConfigPath) {
			t.Errorf("haproxy process %d still running after Stop", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return lb, cfg
}

// who asks the load balancer which server answers, on a new connection.
func (lb *loopbackLB) who() (string, error) {
	c := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: lb.pki.client, DisableKeepAlives: true},
	}
	resp, err := c.Get("https://" + lb.front.String() + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// spread sends n requests, each on its own connection, and counts who
// answered; failures are counted under "".
func (lb *loopbackLB) spread(n int) map[string]int {
	got := make(map[string]int)
	for range n {
		name, err := lb.who()
		if err != nil {
			name = ""
		}
		got[name]++
	}
	return got
}

// answers collects n answers, each on its own connection, and counts who
// gave them. A request that fails is asked again, until within: right
// after a reload, while the new worker takes over the listener, a
// connection can be refused or reset, and that is not what a caller of
// answers checks. It fails the test when n answers do not arrive in time.
func (lb *loopbackLB) answers(t *testing.T, n int, within time.Duration) map[string]int {
	t.Helper()
	got := make(map[string]int)
	var last error
	deadline := time.Now().Add(within)
	for answered := 0; answered < n; {
		name, err := lb.who()
		if err != nil {
			last = err
			require.True(t, time.Now().Before(deadline), "%d of %d answers within %s (%v); the last error: %v", answered, n, within, got, last)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		got[name]++
		answered++
	}
	return got
}

// status reads a server's status ("UP", "DOWN", "UP 1/2", …) from the
// stats page's CSV.
func (lb *loopbackLB) status(server string) (string, error) {
	resp, err := http.Get("http://" + lb.stats.String() + "/stats;csv")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		return "", err
	}
	if len(rows) == 0 {
		return "", errors.New("empty stats")
	}
	col := -1
	for i, h := range rows[0] {
		if strings.TrimPrefix(h, "# ") == "status" {
			col = i
		}
	}
	for _, r := range rows[1:] {
		if len(r) > col && col >= 0 && r[0] == KubeAPIBackend && r[1] == server {
			return r[col], nil
		}
	}
	return "", fmt.Errorf("server %q not in stats", server)
}

// waitStatus polls until server's status is want, and returns how long
// that took; it fails the test after within.
func (lb *loopbackLB) waitStatus(t *testing.T, server, want string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	for time.Since(start) < within {
		st, err := lb.status(server)
		if err == nil && st == want {
			return time.Since(start)
		}
		last = fmt.Sprint(st, err)
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("server %s: status %q after %v, want %q", server, last, within, want)
	return 0
}

// waitAllUp waits until every server's check has passed once.
func (lb *loopbackLB) waitAllUp(t *testing.T, servers ...string) {
	t.Helper()
	for _, s := range servers {
		lb.waitStatus(t, s, "UP", 10*time.Second)
	}
}

// processGone reports whether pid has exited: no such process, or a
// zombie waiting for a late-reaping init.
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, rest, ok := strings.Cut(string(b), ") ")
	return ok && strings.HasPrefix(rest, "Z")
}

// processesWith returns the live processes whose command line contains s.
func processesWith(s string) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []int
	for _, d := range dirs {
		cmdline, err := os.ReadFile(d + "/cmdline")
		if err != nil || !strings.Contains(string(cmdline), s) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(d))
		if err == nil && !processGone(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

package haproxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/csv"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// testPKI is a throwaway CA and one server certificate for every loopback
// address the tests use, standing in for the cluster CA and API server
// certificates.
type testPKI struct {
	caFile string
	server *tls.Config
	client *tls.Config
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "planetstage test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	// Clients verify this name, whatever loopback address they dial.
	tmpl.DNSNames = []string{testServerName}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)

	caFile := filepath.Join(t.TempDir(), "ca.crt")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644))
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return testPKI{
		caFile: caFile,
		server: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		client: &tls.Config{RootCAs: pool, ServerName: testServerName},
	}
}

const testServerName = "kubernetes.default.svc"

// loopbackIPs hands out addresses in 127.0.1.0–127.0.255.255, one per
// call, so parallel tests never race for a port on a shared address (and
// never meet the ephemeral ports of connections from 127.0.0.1).
var loopbackIPs atomic.Int32

func testIP() string {
	n := loopbackIPs.Add(1)
	return fmt.Sprintf("127.0.%d.%d", 1+n/250, 1+n%250)
}

// freeAddr picks a free TCP port on ip, for a listener that someone else
// (HAProxy) opens later.
func freeAddr(t *testing.T, ip string) netip.AddrPort {
	t.Helper()
	l, err := net.Listen("tcp", ip+":0")
	require.NoError(t, err)
	defer l.Close()
	return netip.MustParseAddrPort(l.Addr().String())
}

// apiServer stands in for a kube-apiserver: TLS, /readyz answering the
// status in ready, every other path answering its own name.
type apiServer struct {
	name  string
	addr  netip.AddrPort
	tls   *tls.Config
	ready atomic.Int32

	mu  sync.Mutex
	srv *http.Server
}

func newAPIServer(t *testing.T, name, ip string, cfg *tls.Config) *apiServer {
	t.Helper()
	s := &apiServer{name: name, addr: netip.AddrPortFrom(netip.MustParseAddr(ip), 0), tls: cfg}
	s.ready.Store(http.StatusOK)
	require.NoError(t, s.start())
	t.Cleanup(s.stop)
	return s
}

func (s *apiServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Port 0 the first time; a restart takes the same port again.
	l, err := net.Listen("tcp", s.addr.String())
	if err != nil {
		return err
	}
	s.addr = netip.MustParseAddrPort(l.Addr().String())
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(int(s.ready.Load()))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, s.name) })
	// ServeTLS edits its TLS config (ALPN), so each server gets a copy.
	s.srv = &http.Server{Handler: mux, TLSConfig: s.tls.Clone(), ErrorLog: log.New(io.Discard, "", 0)}
	go s.srv.ServeTLS(l, "", "") //nolint:errcheck // returns ErrServerClosed on stop
	return nil
}

// stop closes the listener and every connection: the machine is gone.
func (s *apiServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
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

func servers(apis ...*apiServer) []Server {
	var out []Server
	for _, a := range apis {
		out = append(out, Server{Name: a.name, Address: a.addr})
	}
	return out
}

// threeAPIServers starts master01..03, each on its own loopback address.
func threeAPIServers(t *testing.T, pki testPKI) []*apiServer {
	t.Helper()
	var apis []*apiServer
	for i := 1; i <= 3; i++ {
		apis = append(apis, newAPIServer(t, fmt.Sprintf("master%02d", i), testIP(), pki.server))
	}
	return apis
}

func pidOf(t *testing.T, svc *Service) string {
	t.Helper()
	b, err := os.ReadFile(svc.PIDFile)
	require.NoError(t, err)
	return strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
}

// silentHost takes addr over with a listener whose accept queue is full, so
// the kernel drops further SYNs: to a connecting client it looks like a
// machine that died without a word (no RST), unlike a stopped process.
// It skips the test where the kernel does not behave that way.
func silentHost(t *testing.T, addr netip.AddrPort) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	require.NoError(t, syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1))
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Port: int(addr.Port()), Addr: addr.Addr().As4()}))
	// Backlog 0: one connection fills the queue, and nobody accepts it.
	require.NoError(t, syscall.Listen(fd, 0))
	filler, err := net.DialTimeout("tcp", addr.String(), time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { filler.Close() })
	if c, err := net.DialTimeout("tcp", addr.String(), 300*time.Millisecond); err == nil {
		c.Close()
		t.Skip("this kernel accepted a connection beyond a full backlog; cannot simulate a silent host")
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

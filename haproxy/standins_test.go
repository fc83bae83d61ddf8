package haproxy

// Stand-ins for what the loopback tests put behind HAProxy: a throwaway
// CA, Go TLS servers that answer like kube-apiservers, and a host that has
// gone silent. Every address is on loopback.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

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

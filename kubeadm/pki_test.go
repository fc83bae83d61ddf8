package kubeadm

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memStore is an in-memory Store for tests; it records which names were
// written as secret.
type memStore struct {
	mu     sync.Mutex
	data   map[string][]byte
	secret map[string]bool
}

func newMemStore() *memStore {
	return &memStore{data: map[string][]byte{}, secret: map[string]bool{}}
}

func (m *memStore) Read(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.data[name]
	if !ok {
		return nil, fmt.Errorf("read %s: %w", name, fs.ErrNotExist)
	}
	return bytes.Clone(b), nil
}

func (m *memStore) Write(name string, data []byte, secret bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[name], m.secret[name] = bytes.Clone(data), secret
	return nil
}

func TestPKIGeneratedOnceAndKeysSecret(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	p, created, err := LoadOrCreatePKI(store, testNow)
	require.NoError(t, err)
	assert.True(t, created)
	again, created, err := LoadOrCreatePKI(store, testNow)
	require.NoError(t, err)
	assert.False(t, created, "second call must reuse the stored PKI")
	assert.Equal(t, p.Files, again.Files)

	loaded, err := LoadPKI(store)
	require.NoError(t, err)
	assert.Equal(t, p.Files, loaded.Files)

	names := []string{"ca.crt", "ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "etcd/ca.crt", "etcd/ca.key", "sa.key", "sa.pub"}
	require.Len(t, p.Files, len(names))
	for _, n := range names {
		require.Contains(t, p.Files, n)
		assert.Equal(t, strings.HasSuffix(n, ".key"), store.secret[storePrefix+n], "%s secret flag", n)
	}
	for _, ca := range caSpecs {
		block, _ := pem.Decode(p.Files[ca.base+".crt"])
		require.NotNil(t, block)
		cert, err := x509.ParseCertificate(block.Bytes)
		require.NoError(t, err)
		assert.True(t, cert.IsCA, ca.base)
		assert.Equal(t, ca.commonName, cert.Subject.CommonName)
		assert.NoError(t, cert.CheckSignatureFrom(cert), ca.base)
	}
}

func TestLoadPKIMissing(t *testing.T) {
	t.Parallel()
	_, err := LoadPKI(newMemStore())
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestPKIHalfWrittenCAIsReported(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	require.NoError(t, store.Write(storePrefix+"ca.key", []byte("key"), true))
	_, _, err := LoadOrCreatePKI(store, testNow)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ca.crt")
}

// TestCACertHashMatchesOpenSSL computes the discovery hash the way kubeadm's
// documentation does, with openssl, and compares.
func TestCACertHashMatchesOpenSSL(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed (apt-get install openssl)")
	}
	p, _, err := LoadOrCreatePKI(newMemStore(), testNow)
	require.NoError(t, err)
	got, err := p.CACertHash()
	require.NoError(t, err)

	crt := filepath.Join(t.TempDir(), "ca.crt")
	require.NoError(t, os.WriteFile(crt, p.Files["ca.crt"], 0o644))
	out, err := exec.Command("sh", "-c",
		"openssl x509 -pubkey -noout -in "+crt+" | openssl pkey -pubin -outform der | sha256sum").Output()
	require.NoError(t, err)
	want := "sha256:" + strings.Fields(string(out))[0]
	assert.Equal(t, want, got)

	_, err = CACertHash([]byte("not a certificate"))
	assert.Error(t, err)
}

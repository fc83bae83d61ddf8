package openvpn

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"strings"
	"time"

	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/tunnel"
)

// Cert is a router's self-signed certificate and key.
type Cert struct {
	CertPEM []byte // "CERTIFICATE"
	KeyPEM  []byte // "PRIVATE KEY" (PKCS#8, unencrypted: VyOS requires PKCS#8)
	// Fingerprint is the SHA-256 of the certificate's DER, as upper-case hex
	// bytes joined by colons: the form OpenVPN's peer-fingerprint and VyOS's
	// "tls peer-fingerprint" take.
	Fingerprint string
}

// DER returns the certificate's DER bytes.
func (c Cert) DER() []byte { b, _ := pem.Decode(c.CertPEM); return b.Bytes }

// KeyDER returns the private key's PKCS#8 DER bytes.
func (c Cert) KeyDER() []byte { b, _ := pem.Decode(c.KeyPEM); return b.Bytes }

// Keys is the key material of a Model.
type Keys struct {
	Auth   Auth
	Certs  map[string]Cert   // by router name, with TLS
	Static map[string][]byte // by tunnel name, with StaticKey: an OpenVPN static key file
}

// Store names, relative to the Store.
func certName(router string) string     { return "openvpn/" + router + ".crt" }
func keyName(router string) string      { return "openvpn/" + router + ".key" }
func staticName(t tunnel.Tunnel) string { return "openvpn/" + t.Name() + ".static.key" }

// legacyStaticName is where static keys were stored while tunnel names
// joined the routers with '-', which two tunnels could share.
func legacyStaticName(t tunnel.Tunnel) string {
	return "openvpn/" + t.Ends[0].Router + "-" + t.Ends[1].Router + ".static.key"
}

// LoadKeys returns the key material m needs, reading it from store and
// creating (and storing) what is missing. Stored material that does not parse
// is an error naming the store entry, not silently replaced: replacing a key
// would break the peers that pinned it.
func LoadKeys(store secret.Store, m *Model) (*Keys, error) {
	k := &Keys{Auth: m.Auth, Certs: map[string]Cert{}, Static: map[string][]byte{}}
	if m.Auth == StaticKey {
		legacyUsers := map[string]int{}
		for _, t := range m.Tunnels {
			legacyUsers[legacyStaticName(t)]++
		}
		for _, t := range m.Tunnels {
			data, name, err := loadStatic(store, t, legacyUsers[legacyStaticName(t)] == 1)
			if err != nil {
				return nil, err
			}
			if _, err := StaticKeyHex(data); err != nil {
				return nil, fmt.Errorf("openvpn: tunnel %s: stored %s: %w", t.Name(), name, err)
			}
			k.Static[t.Name()] = data
		}
		return k, nil
	}
	for _, s := range m.Spec.Sites {
		c, err := loadCert(store, s.Router)
		if err != nil {
			return nil, fmt.Errorf("openvpn: router %q: %w", s.Router, err)
		}
		k.Certs[s.Router] = c
	}
	return k, nil
}

// loadStatic reads t's static key, or creates and stores it. A store from
// before tunnel names were collision-free has it under the legacy name; that
// key is kept (copied to the current name), so running routers are not
// re-keyed, but only when no other tunnel of the model maps to the same
// legacy name: a key two tunnels may have shared belongs to neither.
func loadStatic(store secret.Store, t tunnel.Tunnel, legacyIsOurs bool) (data []byte, name string, err error) {
	name = staticName(t)
	data, err = store.Read(name)
	if !errors.Is(err, fs.ErrNotExist) {
		if err != nil {
			return nil, name, fmt.Errorf("openvpn: tunnel %s: read %s: %w", t.Name(), name, err)
		}
		return data, name, nil
	}
	if legacyIsOurs {
		legacy := legacyStaticName(t)
		data, err = store.Read(legacy)
		switch {
		case err == nil:
			if _, err := StaticKeyHex(data); err != nil {
				return nil, legacy, fmt.Errorf("openvpn: tunnel %s: stored %s: %w", t.Name(), legacy, err)
			}
			if err := store.Write(name, data, true); err != nil {
				return nil, name, fmt.Errorf("openvpn: tunnel %s: copy %s to %s: %w", t.Name(), legacy, name, err)
			}
			return data, name, nil
		case !errors.Is(err, fs.ErrNotExist):
			return nil, legacy, fmt.Errorf("openvpn: tunnel %s: read %s: %w", t.Name(), legacy, err)
		}
	}
	if data, err = NewStaticKey(); err == nil {
		err = store.Write(name, data, true)
	}
	if err != nil {
		return nil, name, fmt.Errorf("openvpn: tunnel %s: create static key: %w", t.Name(), err)
	}
	return data, name, nil
}

func loadCert(store secret.Store, router string) (Cert, error) {
	certPEM, errC := store.Read(certName(router))
	keyPEM, errK := store.Read(keyName(router))
	if errors.Is(errC, fs.ErrNotExist) && errors.Is(errK, fs.ErrNotExist) {
		c, err := NewCert(router)
		if err != nil {
			return Cert{}, fmt.Errorf("create certificate: %w", err)
		}
		// The key first: a crash between the writes leaves a key without a
		// certificate, which the next run reports instead of pinning a
		// certificate whose key is lost.
		if err := store.Write(keyName(router), c.KeyPEM, true); err != nil {
			return Cert{}, fmt.Errorf("store key: %w", err)
		}
		if err := store.Write(certName(router), c.CertPEM, false); err != nil {
			return Cert{}, fmt.Errorf("store certificate: %w", err)
		}
		return c, nil
	}
	if err := errors.Join(errC, errK); err != nil {
		return Cert{}, fmt.Errorf("read stored certificate and key (delete both %s and %s to create new ones): %w",
			certName(router), keyName(router), err)
	}
	return parseCert(certPEM, keyPEM)
}

func parseCert(certPEM, keyPEM []byte) (Cert, error) {
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return Cert{}, errors.New("stored certificate is not a PEM CERTIFICATE")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return Cert{}, fmt.Errorf("stored certificate: %w", err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil || kb.Type != "PRIVATE KEY" {
		return Cert{}, errors.New("stored key is not a PEM PRIVATE KEY (PKCS#8)")
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return Cert{}, errors.New("stored key does not parse as PKCS#8") // the parse error could quote key bytes
	}
	pub, ok := key.(*ecdsa.PrivateKey)
	if !ok || !pub.PublicKey.Equal(cert.PublicKey) {
		return Cert{}, errors.New("stored key does not match the stored certificate")
	}
	return Cert{CertPEM: certPEM, KeyPEM: keyPEM, Fingerprint: Fingerprint(cb.Bytes)}, nil
}

// NewCert creates a self-signed ECDSA P-256 certificate for router, valid
// for 20 years. It is marked as a CA so that VyOS 1.2/1.3, which have no
// fingerprint pinning, can pin it by using it as the peer's only CA.
func NewCert(router string) (Cert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Cert{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return Cert{}, err
	}
	now := time.Now().Add(-time.Hour)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: router, Organization: []string{"planetstage"}},
		NotBefore:             now,
		NotAfter:              now.AddDate(20, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return Cert{}, err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Cert{}, err
	}
	return Cert{
		CertPEM:     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:      pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}),
		Fingerprint: Fingerprint(der),
	}, nil
}

// Fingerprint returns the SHA-256 of der as colon-separated upper-case hex.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

const (
	staticBegin = "-----BEGIN OpenVPN Static key V1-----"
	staticEnd   = "-----END OpenVPN Static key V1-----"
)

// NewStaticKey returns a new 2048-bit OpenVPN static key file, in the format
// "openvpn --genkey secret" writes.
func NewStaticKey() ([]byte, error) {
	raw := make([]byte, 256)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("#\n# 2048 bit OpenVPN static key (planetstage)\n#\n" + staticBegin + "\n")
	h := hex.EncodeToString(raw)
	for i := 0; i < len(h); i += 32 {
		b.WriteString(h[i:i+32] + "\n")
	}
	b.WriteString(staticEnd + "\n")
	return b.Bytes(), nil
}

// StaticKeyHex returns the 512 hex characters of a static key file: the form
// VyOS 1.4+ takes in "pki openvpn shared-secret NAME key".
func StaticKeyHex(file []byte) (string, error) {
	s := string(file)
	i, j := strings.Index(s, staticBegin), strings.Index(s, staticEnd)
	if i < 0 || j < i {
		return "", errors.New("not an OpenVPN static key V1 file")
	}
	h := strings.Join(strings.Fields(s[i+len(staticBegin):j]), "")
	if len(h) != 512 {
		return "", fmt.Errorf("static key has %d hex characters, want 512", len(h))
	}
	if _, err := hex.DecodeString(h); err != nil {
		return "", errors.New("static key is not hex")
	}
	return h, nil
}

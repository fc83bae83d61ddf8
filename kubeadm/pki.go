package kubeadm

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"path"
	"time"

	"github.com/planetstage/planetstage/secret"
)

// PKIDir is where kubeadm looks for certificates on a control plane.
const PKIDir = "/etc/kubernetes/pki"

// storePrefix keeps this package's files apart from other layers' in a Store.
const storePrefix = "cluster/pki/"

// caValidity matches kubeadm's own CA lifetime (ten years).
const caValidity = 10 * 365 * 24 * time.Hour

// PKI is the shared key material of an HA control plane: the three CAs and
// the service-account key. Every control plane gets the same copy before
// init or join, so kubeadm issues each node's own certificates from them and
// joins need neither --upload-certs nor its two-hour certificate key.
type PKI struct {
	// Files maps a path relative to PKIDir ("ca.crt", "etcd/ca.key",
	// "sa.pub") to its PEM contents.
	Files map[string][]byte
}

// pkiFile describes one file of the PKI.
type pkiFile struct {
	name   string // relative to PKIDir
	secret bool
}

// caSpec is one CA kubeadm expects: base path and common name.
var caSpecs = []struct{ base, commonName string }{
	{"ca", "kubernetes"},
	{"front-proxy-ca", "front-proxy-ca"},
	{"etcd/ca", "etcd-ca"},
}

// pkiFiles lists every file of the PKI, the same list kubeadm's
// "certificates are present" check for a joining control plane wants.
func pkiFiles() []pkiFile {
	var files []pkiFile
	for _, ca := range caSpecs {
		files = append(files, pkiFile{ca.base + ".crt", false}, pkiFile{ca.base + ".key", true})
	}
	return append(files, pkiFile{"sa.key", true}, pkiFile{"sa.pub", false})
}

// LoadOrCreatePKI returns the PKI kept in store, generating and storing
// whatever part is missing (a CA's certificate and key always together).
// A second call returns the same material.
func LoadOrCreatePKI(store secret.Store, now time.Time) (*PKI, bool, error) {
	p := &PKI{Files: map[string][]byte{}}
	created := false
	for _, ca := range caSpecs {
		crt, key, err := readPair(store, ca.base+".crt", ca.base+".key")
		if err != nil {
			return nil, false, err
		}
		if crt == nil {
			if crt, key, err = newCA(ca.commonName, now); err != nil {
				return nil, false, fmt.Errorf("pki: %s: %w", ca.base, err)
			}
			if err := writePair(store, ca.base+".crt", crt, ca.base+".key", key); err != nil {
				return nil, false, err
			}
			created = true
		}
		p.Files[ca.base+".crt"], p.Files[ca.base+".key"] = crt, key
	}
	pub, key, err := readPair(store, "sa.pub", "sa.key")
	if err != nil {
		return nil, false, err
	}
	if pub == nil {
		if pub, key, err = newServiceAccountKey(); err != nil {
			return nil, false, fmt.Errorf("pki: sa: %w", err)
		}
		if err := writePair(store, "sa.pub", pub, "sa.key", key); err != nil {
			return nil, false, err
		}
		created = true
	}
	p.Files["sa.pub"], p.Files["sa.key"] = pub, key
	return p, created, nil
}

// LoadPKI returns the PKI kept in store, or an error matching fs.ErrNotExist
// when it has not been generated yet. It never writes.
func LoadPKI(store secret.Store) (*PKI, error) {
	p := &PKI{Files: map[string][]byte{}}
	for _, f := range pkiFiles() {
		b, err := store.Read(storePrefix + f.name)
		if err != nil {
			return nil, fmt.Errorf("pki: read %s: %w", f.name, err)
		}
		p.Files[f.name] = b
	}
	return p, nil
}

// CACertHash is the value for discovery.bootstrapToken.caCertHashes:
// "sha256:" and the hex SHA-256 of the cluster CA's DER SubjectPublicKeyInfo.
func (p *PKI) CACertHash() (string, error) { return CACertHash(p.Files["ca.crt"]) }

// CACertHash computes the caCertHashes value of a PEM certificate.
func CACertHash(certPEM []byte) (string, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return "", errors.New("ca hash: no PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", fmt.Errorf("ca hash: %w", err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

func readPair(store secret.Store, crtName, keyName string) (crt, key []byte, err error) {
	crt, errCrt := store.Read(storePrefix + crtName)
	key, errKey := store.Read(storePrefix + keyName)
	switch {
	case errors.Is(errCrt, fs.ErrNotExist) && errors.Is(errKey, fs.ErrNotExist):
		return nil, nil, nil
	case errCrt != nil:
		return nil, nil, fmt.Errorf("pki: read %s: %w", crtName, errCrt)
	case errKey != nil:
		return nil, nil, fmt.Errorf("pki: read %s: %w", keyName, errKey)
	}
	return crt, key, nil
}

// writePair stores the key first: a crash between the two writes leaves a
// key without certificate, which readPair reports instead of silently
// generating a second CA that nodes would disagree about.
func writePair(store secret.Store, crtName string, crt []byte, keyName string, key []byte) error {
	if err := store.Write(storePrefix+keyName, key, true); err != nil {
		return fmt.Errorf("pki: write %s: %w", keyName, err)
	}
	if err := store.Write(storePrefix+crtName, crt, false); err != nil {
		return fmt.Errorf("pki: write %s: %w", crtName, err)
	}
	return nil
}

// newCA makes a self-signed RSA-2048 CA like kubeadm's own (its default
// encryption algorithm), valid for ten years from a minute ago.
func newCA(commonName string, now time.Time) (crtPEM, keyPEM []byte, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, err
	}
	ski := sha256.Sum256(x509.MarshalPKCS1PublicKey(&key.PublicKey))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Minute).UTC(),
		NotAfter:              now.Add(caValidity).UTC(),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          ski[:20],
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), crypto.Signer(key))
	if err != nil {
		return nil, nil, err
	}
	crtPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return crtPEM, keyPEM, nil
}

// newServiceAccountKey makes the key pair the API server signs service
// account tokens with (sa.key) and verifies them with (sa.pub).
func newServiceAccountKey() (pubPEM, keyPEM []byte, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, nil, err
	}
	pubPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return pubPEM, keyPEM, nil
}

// nodePath is where a PKI file goes on a control plane.
func nodePath(name string) string { return path.Join(PKIDir, name) }

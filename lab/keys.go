package lab

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/planetstage/planetstage/internal/atomicfile"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// keyStore keeps the lab's SSH keys in its state directory: the client key
// that every machine authorizes, and one host key per machine. Keys are made
// once and reused, so a known_hosts file stays valid across runs.
type keyStore struct {
	dir string
	// mu makes first use create one key, not one per concurrent caller.
	mu *sync.Mutex
}

func openKeyStore(dir string) (keyStore, error) {
	if err := os.MkdirAll(filepath.Join(dir, "hostkeys"), 0o700); err != nil {
		return keyStore{}, fmt.Errorf("lab: state directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return keyStore{}, fmt.Errorf("lab: state directory: %w", err)
	}
	return keyStore{dir: dir, mu: new(sync.Mutex)}, nil
}

// IdentityFile is the client private key (0600).
func (k keyStore) IdentityFile() string { return filepath.Join(k.dir, "id_ed25519") }

// KnownHostsFile lists every machine's host key by name and address.
func (k keyStore) KnownHostsFile() string { return filepath.Join(k.dir, "known_hosts") }

// clientKey returns the client's private key in OpenSSH PEM and its public
// key, making them on first use.
func (k keyStore) clientKey() (pemBytes []byte, pub ssh.PublicKey, err error) {
	return k.key(k.IdentityFile(), "planetstage-lab")
}

// hostKey returns machine's host private key in OpenSSH PEM and its public key.
func (k keyStore) hostKey(machine string) (pemBytes []byte, pub ssh.PublicKey, err error) {
	return k.key(filepath.Join(k.dir, "hostkeys", machine), "root@"+machine)
}

func (k keyStore) key(path, comment string) ([]byte, ssh.PublicKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		_, priv, genErr := ed25519.GenerateKey(rand.Reader)
		if genErr != nil {
			return nil, nil, fmt.Errorf("lab: generate key: %w", genErr)
		}
		block, mErr := ssh.MarshalPrivateKey(priv, comment)
		if mErr != nil {
			return nil, nil, fmt.Errorf("lab: encode key: %w", mErr)
		}
		data = pem.EncodeToMemory(block)
		if err := writeSecret(path, data); err != nil {
			return nil, nil, err
		}
	} else if err != nil {
		return nil, nil, fmt.Errorf("lab: read key %s: %w", path, err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	if err != nil {
		// Do not echo the file: it holds a private key.
		return nil, nil, fmt.Errorf("lab: key %s is not an OpenSSH private key; remove it to make a new one", path)
	}
	return data, signer.PublicKey(), nil
}

// writeKnownHosts records each machine's host key under its name and all
// its addresses.
func (k keyStore) writeKnownHosts(machines []Machine) error {
	var b strings.Builder
	for _, m := range machines {
		_, pub, err := k.hostKey(m.Name)
		if err != nil {
			return err
		}
		hosts := []string{m.Name}
		for _, a := range m.Addresses {
			hosts = append(hosts, a.String())
		}
		b.WriteString(knownhosts.Line(hosts, pub) + "\n")
	}
	return writeFileAtomic(k.KnownHostsFile(), []byte(b.String()), 0o644)
}

func writeSecret(path string, data []byte) error {
	return writeFileAtomic(path, data, 0o600)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := atomicfile.Write(path, data, mode); err != nil {
		return fmt.Errorf("lab: write %s: %w", path, err)
	}
	return nil
}

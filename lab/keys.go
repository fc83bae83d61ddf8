package lab

import (
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/planetstage/planetstage/secret"
)

// keyStore keeps the lab's SSH keys in its state directory: the client key
// that every machine authorizes, and one host key per machine. Keys are made
// once and reused, so a known_hosts file stays valid across runs. The
// directory is a secret.Dir: 0700, keys 0600, writes atomic, and a key that
// concurrent callers ask for first is made once.
type keyStore struct {
	dir *secret.Dir
}

// Names in the state directory.
const (
	identityName   = "id_ed25519"
	knownHostsName = "known_hosts"
)

func hostKeyName(machine string) string { return "hostkeys/" + machine }

func openKeyStore(dir string) (keyStore, error) {
	d, err := secret.OpenDir(dir)
	if err != nil {
		return keyStore{}, fmt.Errorf("lab: state directory: %w", err)
	}
	return keyStore{dir: d}, nil
}

// IdentityFile is the client private key (0600).
func (k keyStore) IdentityFile() string { return filepath.Join(k.dir.Root(), identityName) }

// KnownHostsFile lists every machine's host key by name and address.
func (k keyStore) KnownHostsFile() string { return filepath.Join(k.dir.Root(), knownHostsName) }

// clientKey returns the client's private key in OpenSSH PEM and its public
// key, making them on first use.
func (k keyStore) clientKey() (pemBytes []byte, pub ssh.PublicKey, err error) {
	return k.key(identityName, "planetstage-lab")
}

// hostKey returns machine's host private key in OpenSSH PEM and its public key.
func (k keyStore) hostKey(machine string) (pemBytes []byte, pub ssh.PublicKey, err error) {
	return k.key(hostKeyName(machine), "root@"+machine)
}

func (k keyStore) key(name, comment string) ([]byte, ssh.PublicKey, error) {
	data, err := k.dir.LoadOrCreate(name, true, func() ([]byte, error) { return secret.NewSSHKey(comment) })
	if err != nil {
		return nil, nil, fmt.Errorf("lab: key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	if err != nil {
		// Do not echo the file: it holds a private key.
		return nil, nil, fmt.Errorf("lab: key %s is not an OpenSSH private key; remove it to make a new one",
			filepath.Join(k.dir.Root(), filepath.FromSlash(name)))
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
	if err := k.dir.Write(knownHostsName, []byte(b.String()), false); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

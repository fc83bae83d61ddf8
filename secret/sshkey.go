package secret

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"

	"golang.org/x/crypto/ssh"
)

// NewSSHKey makes an ed25519 key and returns it as an OpenSSH private key
// (PEM, no passphrase) with comment: what a client key or a machine's host
// key is made as, to be kept with LoadOrCreate.
func NewSSHKey(comment string) ([]byte, error) {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(k, comment)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(block), nil
}

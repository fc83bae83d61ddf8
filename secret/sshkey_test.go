package secret

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
)

func TestNewSSHKey(t *testing.T) {
	a, err := NewSSHKey("h1")
	require.NoError(t, err)
	signer, err := ssh.ParsePrivateKey(a)
	require.NoError(t, err, "an OpenSSH private key without a passphrase")
	assert.Equal(t, ssh.KeyAlgoED25519, signer.PublicKey().Type())
	b, err := NewSSHKey("h1")
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "a new key each time")
}

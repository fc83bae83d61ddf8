package wireguard_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/wireguard"
)

// The Go public key is the one wg(8) derives from the same private key.
func TestPublicKeyAgreesWithWg(t *testing.T) {
	if _, err := exec.LookPath("wg"); err != nil {
		t.Skip("needs wg (apt-get install wireguard-tools)")
	}
	for range 3 {
		k, err := wireguard.NewPrivateKey()
		require.NoError(t, err)
		cmd := exec.Command("wg", "pubkey")
		cmd.Stdin = strings.NewReader(k.String() + "\n")
		out, err := cmd.Output()
		require.NoError(t, err)
		assert.Equal(t, strings.TrimSpace(string(out)), k.Public().String())
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	k, err := wireguard.NewPrivateKey()
	require.NoError(t, err)
	back, err := wireguard.ParseKey(k.String() + "\n")
	require.NoError(t, err)
	assert.Equal(t, k, back)
	for _, bad := range []string{"", "not base64 !", "c2hvcnQ="} {
		_, err := wireguard.ParseKey(bad)
		require.Error(t, err, bad)
		if bad != "" {
			assert.NotContains(t, err.Error(), bad, "a key that does not parse is never quoted")
		}
	}
}

func TestLoadKeys(t *testing.T) {
	t.Parallel()
	m := threeSites(t, wireguard.Options{PresharedKey: true})
	dir := t.TempDir()
	k1, err := wireguard.LoadKeys(secret.NewDir(dir), m)
	require.NoError(t, err)
	assert.Len(t, k1.Private, 3)
	assert.Len(t, k1.Preshared, 3)
	for _, name := range []string{"wireguard/r0.key", "wireguard/r0_r1.psk"} {
		st, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), name)
	}
	pub, err := os.ReadFile(filepath.Join(dir, "wireguard/r0.pub"))
	require.NoError(t, err)
	p0, _ := k1.Public("r0")
	assert.Equal(t, p0.String()+"\n", string(pub))

	// Reused on the next run.
	k2, err := wireguard.LoadKeys(secret.NewDir(dir), m)
	require.NoError(t, err)
	assert.Equal(t, k1, k2)

	// A stored key that does not parse names its entry and is kept.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "wireguard/r1.key"), []byte("garbage-key-material\n"), 0o600))
	_, err = wireguard.LoadKeys(secret.NewDir(dir), m)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "wireguard/r1.key")
	assert.NotContains(t, err.Error(), "garbage")
	data, _ := os.ReadFile(filepath.Join(dir, "wireguard/r1.key"))
	assert.Equal(t, "garbage-key-material\n", string(data))
}

package openvpn_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/tunnel"
)

func TestLoadKeysCreatesOnceAndReuses(t *testing.T) {
	t.Parallel()
	for _, auth := range []openvpn.Auth{openvpn.TLS, openvpn.StaticKey} {
		t.Run(string(auth), func(t *testing.T) {
			t.Parallel()
			m := newModel(t, tunnel.Spec{Sites: sites(3), Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/24"), Port: openvpn.DefaultPort}, openvpn.Options{Auth: auth})
			dir := t.TempDir()
			k1, err := openvpn.LoadKeys(secret.NewDir(dir), m)
			require.NoError(t, err)
			k2, err := openvpn.LoadKeys(secret.NewDir(dir), m)
			require.NoError(t, err)
			assert.Equal(t, k1, k2, "keys must be reused, not regenerated")
			if auth == openvpn.TLS {
				require.Len(t, k1.Certs, 3)
				assert.NotEqual(t, k1.Certs["vyos01"].Fingerprint, k1.Certs["vyos02"].Fingerprint)
				assert.Regexp(t, `^[0-9A-F]{2}(:[0-9A-F]{2}){31}$`, k1.Certs["vyos01"].Fingerprint)
			} else {
				require.Len(t, k1.Static, 3)
				h, err := openvpn.StaticKeyHex(k1.Static["vyos01-vyos02"])
				require.NoError(t, err)
				assert.Len(t, h, 512)
			}
			// secrets are 0600 in the store
			files, _ := filepath.Glob(filepath.Join(dir, "openvpn", "*.key"))
			require.NotEmpty(t, files)
			for _, f := range files {
				st, err := os.Stat(f)
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
			}
		})
	}
}

func TestLoadKeysRefusesDamagedStore(t *testing.T) {
	t.Parallel()
	m := newModel(t, tunnel.Spec{Sites: sites(2), Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/24"), Port: openvpn.DefaultPort}, openvpn.Options{})
	dir := t.TempDir()
	_, err := openvpn.LoadKeys(secret.NewDir(dir), m)
	require.NoError(t, err)
	other, err := openvpn.NewCert("other")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "openvpn", "vyos01.key"), other.KeyPEM, 0o600))
	_, err = openvpn.LoadKeys(secret.NewDir(dir), m)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `router "vyos01": stored key does not match`)
	assert.False(t, strings.Contains(err.Error(), "PRIVATE"), "error must not quote key material")
}

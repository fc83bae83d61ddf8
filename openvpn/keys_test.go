package openvpn_test

import (
	"bytes"
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
				h, err := openvpn.StaticKeyHex(k1.Static["vyos01_vyos02"])
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

// collidingSites are four valid sites whose routers a-b, c, a and b-c,
// joined as "ROUTER-ROUTER", gave tunnels a-b/c and a/b-c the same name.
func collidingSites() []tunnel.Site {
	s := sites(4)
	for i, r := range []string{"a-b", "c", "a", "b-c"} {
		s[i].Router = r
	}
	return s
}

func TestLoadKeysStaticKeyPerTunnel(t *testing.T) {
	t.Parallel()
	m := newModel(t, tunnel.Spec{Sites: collidingSites(), Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/24"), Port: openvpn.DefaultPort}, openvpn.Options{Auth: openvpn.StaticKey})
	dir := t.TempDir()
	k, err := openvpn.LoadKeys(secret.NewDir(dir), m)
	require.NoError(t, err)
	require.Len(t, m.Tunnels, 6)
	assert.Equal(t, 6, len(k.Static), "one key per tunnel") // not Len: it would print the keys
	seen := map[string]string{}
	for _, tn := range m.Tunnels {
		key := string(k.Static[tn.Name()])
		require.NotEmpty(t, key, tn.Name())
		if other, ok := seen[key]; ok {
			t.Errorf("tunnels %s and %s share a static key", other, tn.Name())
		}
		seen[key] = tn.Name()
	}
	files, _ := filepath.Glob(filepath.Join(dir, "openvpn", "*.static.key"))
	assert.Len(t, files, 6)
}

// A store written before tunnel names became collision-free keeps its
// keys: running routers must not be re-keyed by an upgrade. A legacy name
// that two tunnels of the model share is used by neither.
func TestLoadKeysReadsLegacyStaticKeyNames(t *testing.T) {
	t.Parallel()
	legacy, err := openvpn.NewStaticKey()
	require.NoError(t, err)
	t.Run("unambiguous", func(t *testing.T) {
		t.Parallel()
		m := newModel(t, tunnel.Spec{Sites: sites(3), Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/24"), Port: openvpn.DefaultPort}, openvpn.Options{Auth: openvpn.StaticKey})
		store := secret.NewDir(t.TempDir())
		require.NoError(t, store.Write("openvpn/vyos01-vyos02.static.key", legacy, true))
		k, err := openvpn.LoadKeys(store, m)
		require.NoError(t, err)
		// Compared as booleans: a failure must not print key material.
		assert.True(t, bytes.Equal(legacy, k.Static[m.Tunnels[0].Name()]), "vyos01-vyos02 keeps its key")
		assert.False(t, bytes.Equal(legacy, k.Static[m.Tunnels[1].Name()]))
		again, err := openvpn.LoadKeys(store, m)
		require.NoError(t, err)
		for name, key := range k.Static {
			assert.True(t, bytes.Equal(key, again.Static[name]), "%s: the same key on the next run", name)
		}
	})
	t.Run("ambiguous", func(t *testing.T) {
		t.Parallel()
		m := newModel(t, tunnel.Spec{Sites: collidingSites(), Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/24"), Port: openvpn.DefaultPort}, openvpn.Options{Auth: openvpn.StaticKey})
		store := secret.NewDir(t.TempDir())
		require.NoError(t, store.Write("openvpn/a-b-c.static.key", legacy, true))
		k, err := openvpn.LoadKeys(store, m)
		require.NoError(t, err)
		for _, key := range k.Static {
			assert.False(t, bytes.Equal(legacy, key), "an ambiguous legacy key belongs to no tunnel")
		}
	})
}

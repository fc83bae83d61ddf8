package kubeconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/clientcmd/api"
)

// fakeKey is the client key in testdata/admin.conf (base64 of a string
// that is not a key), which no error may carry.
const fakeKey = "RkFLRS1DTElFTlQtS0VZLW5vdC1hLXJlYWwta2V5"

func adminConf(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "admin.conf"))
	require.NoError(t, err)
	require.Contains(t, string(data), fakeKey)
	return data
}

// copyFile puts testdata/name at a new path in a temporary directory with
// mode.
func copyFile(t *testing.T, name string, mode os.FileMode) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "config")
	require.NoError(t, os.WriteFile(path, data, mode))
	require.NoError(t, os.Chmod(path, mode))
	return path
}

func TestNamed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, server          string
		wantServer, wantTLSSN string
	}{
		{"as kubeadm wrote it", "", "https://192.168.10.253:6443", ""},
		{"the same server", "https://192.168.10.253:6443", "https://192.168.10.253:6443", ""},
		{"another address", "https://127.0.0.1:16443", "https://127.0.0.1:16443", "192.168.10.253"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Named(adminConf(t), "lab", tc.server)
			require.NoError(t, err)
			assert.Equal(t, "lab", cfg.CurrentContext)
			require.Len(t, cfg.Contexts, 1)
			require.Len(t, cfg.Clusters, 1)
			require.Len(t, cfg.AuthInfos, 1)
			assert.Equal(t, &api.Context{Cluster: "lab", AuthInfo: "lab", Extensions: map[string]runtime.Object{}}, cfg.Contexts["lab"])
			require.NotNil(t, cfg.Clusters["lab"])
			assert.Equal(t, tc.wantServer, cfg.Clusters["lab"].Server)
			assert.Equal(t, tc.wantTLSSN, cfg.Clusters["lab"].TLSServerName)
			assert.Equal(t, "fake CA for tests", string(cfg.Clusters["lab"].CertificateAuthorityData))
			require.NotNil(t, cfg.AuthInfos["lab"])
			assert.Equal(t, "FAKE-CLIENT-KEY-not-a-real-key", string(cfg.AuthInfos["lab"].ClientKeyData))
		})
	}
}

func TestNamedRefuses(t *testing.T) {
	t.Parallel()
	good := string(adminConf(t))
	for _, tc := range []struct {
		name, data, as, server, want string
	}{
		{"no name", good, "", "", "the name is empty"},
		{"not a kubeconfig", "{{{" + fakeKey, "lab", "", "kubeconfig: "},
		{"two contexts", strings.Replace(good, "contexts:\n", "contexts:\n- context: {cluster: thesis, user: kubernetes-admin}\n  name: second\n", 1), "lab", "", "2 contexts"},
		{"no such cluster", strings.Replace(good, "    cluster: thesis\n", "    cluster: gone\n", 1), "lab", "", `names cluster "gone"`},
		{"no such user", strings.Replace(good, "    user: kubernetes-admin\n", "    user: gone\n", 1), "lab", "", `names user "gone"`},
		{"plain http", good, "lab", "http://192.168.10.253:6443", "not an https:// URL"},
		{"no host", good, "lab", "https://", "not an https:// URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Named([]byte(tc.data), tc.as, tc.server)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), fakeKey)
			assert.NotContains(t, err.Error(), "FAKE-CLIENT-KEY")
		})
	}
}

func named(t *testing.T, server string) *api.Config {
	t.Helper()
	cfg, err := Named(adminConf(t), "thesis", server)
	require.NoError(t, err)
	return cfg
}

// TestMergeKeepsOtherContexts merges into a kubeconfig that has a context
// of another cluster: that one stays, with its relative CA path and
// namespace, and the new one becomes current.
func TestMergeKeepsOtherContexts(t *testing.T) {
	t.Parallel()
	path := copyFile(t, "other.conf", 0o644)
	require.NoError(t, Merge(path, named(t, "")))

	got, err := clientcmd.LoadFromFile(path)
	require.NoError(t, err)
	assert.Equal(t, "thesis", got.CurrentContext)
	assert.ElementsMatch(t, []string{"other", "thesis"}, keys(got.Contexts))
	assert.ElementsMatch(t, []string{"other", "thesis"}, keys(got.Clusters))
	assert.ElementsMatch(t, []string{"other-admin", "thesis"}, keys(got.AuthInfos))
	assert.Equal(t, "https://other.example:6443", got.Clusters["other"].Server)
	assert.Equal(t, "ca.crt", got.Clusters["other"].CertificateAuthority, "a relative path stays relative")
	assert.Equal(t, "team", got.Contexts["other"].Namespace)
	assert.Equal(t, "other-token", got.AuthInfos["other-admin"].Token)
	assert.Equal(t, "https://192.168.10.253:6443", got.Clusters["thesis"].Server)
	assert.Equal(t, "FAKE-CLIENT-KEY-not-a-real-key", string(got.AuthInfos["thesis"].ClientKeyData))

	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "it holds a client key")
	_, err = os.Stat(path + ".lock")
	assert.ErrorIs(t, err, os.ErrNotExist, "the lock is released")
}

// TestMergeAgainReplaces merges twice with different servers: the second
// replaces the first's entries instead of adding to them.
func TestMergeAgainReplaces(t *testing.T) {
	t.Parallel()
	path := copyFile(t, "other.conf", 0o600)
	require.NoError(t, Merge(path, named(t, "")))
	require.NoError(t, Merge(path, named(t, "https://127.0.0.1:16443")))

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	// Maps would hide a duplicate; the text would not.
	assert.Equal(t, 3, strings.Count(string(data), "name: thesis"), "one cluster, one context, one user:\n%s", data)
	assert.Equal(t, 1, strings.Count(string(data), "client-key-data:"))
	got, err := clientcmd.LoadFromFile(path)
	require.NoError(t, err)
	assert.Len(t, got.Contexts, 2)
	assert.Equal(t, "https://127.0.0.1:16443", got.Clusters["thesis"].Server)
}

func TestMergeCreatesTheFileAndItsDirectory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), ".kube", "config")
	require.NoError(t, Merge(path, named(t, "")))
	got, err := clientcmd.LoadFromFile(path)
	require.NoError(t, err)
	assert.Equal(t, "thesis", got.CurrentContext)
	assert.Equal(t, []string{"thesis"}, keys(got.Contexts))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	st, err = os.Stat(filepath.Dir(path))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
}

// TestMergeFollowsASymlink keeps a kubeconfig that is a link (a dotfiles
// checkout) a link, and writes the file it points to.
func TestMergeFollowsASymlink(t *testing.T) {
	t.Parallel()
	target := copyFile(t, "other.conf", 0o600)
	link := filepath.Join(t.TempDir(), "config")
	require.NoError(t, os.Symlink(target, link))
	require.NoError(t, Merge(link, named(t, "")))
	st, err := os.Lstat(link)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSymlink, st.Mode().Type())
	got, err := clientcmd.LoadFromFile(target)
	require.NoError(t, err)
	assert.Len(t, got.Contexts, 2)
}

// TestMergeChangesNothingItCannotRead leaves a file it cannot parse, or one
// that another writer holds locked, as it was.
func TestMergeChangesNothingItCannotRead(t *testing.T) {
	t.Parallel()
	for name, setup := range map[string]func(path string){
		"not yaml": func(path string) { require.NoError(t, os.WriteFile(path, []byte("{{{ not yaml"), 0o600)) },
		"locked":   func(path string) { require.NoError(t, os.WriteFile(path+".lock", nil, 0o600)) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := copyFile(t, "other.conf", 0o644)
			setup(path)
			before, err := os.ReadFile(path)
			require.NoError(t, err)
			err = Merge(path, named(t, ""))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "nothing was changed")
			assert.NotContains(t, err.Error(), fakeKey)
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, string(before), string(after))
		})
	}
}

func TestDefaultPath(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, tc := range []struct{ env, want string }{
		{"", filepath.Join(home, ".kube", "config")},
		{"/a/config", "/a/config"},
		{"/a/config" + string(filepath.ListSeparator) + "/b/config", "/a/config"},
		{string(filepath.ListSeparator) + "/b/config", "/b/config"},
	} {
		t.Setenv("KUBECONFIG", tc.env)
		got, err := DefaultPath()
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, "KUBECONFIG=%q", tc.env)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

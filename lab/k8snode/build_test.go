package k8snode

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAptMirrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, dir, suite string
		want             []string
		wantErr          string
	}{
		{name: "deb822 and one-line, filtered by suite, type and component", dir: "testdata/apt", suite: "bookworm", want: []string{
			"deb http://oneline.invalid/debian bookworm main",
			"deb http://mirror.invalid/debian bookworm main",
			"deb http://mirror.invalid/debian bookworm-updates main",
			"deb http://mirror.invalid/debian-security bookworm-security main",
		}},
		{name: "other suite from the one-line file", dir: "testdata/apt", suite: "trixie", want: []string{"deb http://oneline.invalid/debian trixie main"}},
		{name: "no entry for the suite", dir: "testdata/apt", suite: "sid", wantErr: `no enabled 'deb' entry for suite "sid"`},
		{name: "no sources at all", dir: "testdata/noapt", suite: "bookworm", wantErr: "no enabled 'deb' entry"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := AptMirrors(tc.dir, tc.suite)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestComponents(t *testing.T) {
	t.Parallel()
	comps, err := DefaultVersions.components()
	require.NoError(t, err)
	var bins []string
	for _, c := range comps {
		bins = append(bins, c.wantBins...)
		if c.dir == "kubernetes" {
			assert.Contains(t, c.ldflags, "k8s.io/component-base/version.gitVersion=v1.37.2")
			assert.Contains(t, c.ldflags, "version.gitMajor=1 ")
			assert.Contains(t, c.ldflags, "version.gitMinor=37 ")
		}
		if c.dir == "runc" {
			assert.True(t, c.cgo, "runc needs cgo for libseccomp")
			assert.Equal(t, "seccomp", c.tags)
		}
		// Every wrapper module the recipe names is in build/k8s.
		_, err := os.Stat(filepath.Join("..", "..", "build", "k8s", c.dir, "go.mod"))
		assert.NoError(t, err, "wrapper module %s", c.dir)
	}
	for bin := range nodeBinaries {
		assert.Contains(t, bins, bin, "node binary %s is built", bin)
	}
	for name, r := range recipes {
		assert.Contains(t, bins, r.binary, "image %s's binary is built", name)
	}

	for _, bad := range []string{"1.37.2", "v1.37", "v1.x.2", ""} {
		v := DefaultVersions
		v.Kubernetes = bad
		_, err := v.components()
		assert.ErrorContains(t, err, "Kubernetes", "version %q", bad)
	}
}

func TestHashOf(t *testing.T) {
	t.Parallel()
	assert.Equal(t, hashOf("a", "b"), hashOf("a", "b"))
	assert.NotEqual(t, hashOf("ab", ""), hashOf("a", "b"), "parts are length-delimited")
	assert.Len(t, hashOf("x"), 16)
}

func TestTreeDigestChangesWithContent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module a\n"), 0o644))
	d1, err := treeDigest(dir)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module b\n"), 0o644))
	d2, err := treeDigest(dir)
	require.NoError(t, err)
	assert.NotEqual(t, d1, d2)
}

func TestImageFile(t *testing.T) {
	t.Parallel()
	for ref, want := range map[string]string{
		"registry.k8s.io/coredns/coredns:v1.14.6": "coredns.tar",
		"registry.local/k8s/coredns:v1.14.6":      "coredns.tar",
		"registry.k8s.io/kube-apiserver:v1.37.2":  "kube-apiserver.tar",
		"registry.k8s.io/etcd:3.7.0-0":            "etcd.tar",
		"localhost:5000/pause:3.10.2":             "pause.tar",
		"registry.k8s.io/pause":                   "pause.tar",
	} {
		assert.Equal(t, want, imageFile(ref), ref)
	}
}

func TestContainerdConfig(t *testing.T) {
	t.Parallel()
	cfg, err := ContainerdConfig("registry.k8s.io/pause:3.10.2")
	require.NoError(t, err)
	s := string(cfg)
	assert.Contains(t, s, `sandbox = "registry.k8s.io/pause:3.10.2"`)
	assert.Contains(t, s, "restrict_oom_score_adj = true")
	assert.Contains(t, s, "SystemdCgroup = false")
	assert.True(t, strings.HasPrefix(strings.SplitN(s, "\nversion", 2)[1], " = 3"), "containerd 2.x config version 3")
}

// TestWriteNodeTar checks that overlay files replace the base rootfs
// entries, each path once, with their parent directories and modes.
func TestWriteNodeTar(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := filepath.Join(dir, "base.tar")
	var bb bytes.Buffer
	tw := tar.NewWriter(&bb)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "./etc/", Typeflag: tar.TypeDir, Mode: 0o755}))
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "./etc/crictl.yaml", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3}))
	_, _ = tw.Write([]byte("old"))
	require.NoError(t, tw.Close())
	require.NoError(t, os.WriteFile(base, bb.Bytes(), 0o644))
	bin := filepath.Join(dir, "kubelet")
	require.NoError(t, os.WriteFile(bin, []byte("ELF"), 0o755))

	var out bytes.Buffer
	require.NoError(t, writeNodeTar(&out, base, []overlayFile{
		{dest: "/etc/crictl.yaml", mode: 0o644, data: []byte("new")},
		{dest: "/usr/local/bin/kubelet", mode: 0o755, src: bin},
	}))
	got := map[string]string{}
	var order []string
	tr := tar.NewReader(&out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		data, _ := io.ReadAll(tr)
		got[h.Name] = string(data)
		order = append(order, h.Name)
		if h.Name == "./usr/local/bin/kubelet" {
			assert.Equal(t, int64(0o755), h.Mode)
		}
	}
	assert.Equal(t, "new", got["./etc/crictl.yaml"], "the overlay replaces the base file")
	assert.Equal(t, "ELF", got["./usr/local/bin/kubelet"])
	assert.Contains(t, order, "./usr/local/bin/")
	assert.Contains(t, order, "./usr/")
	seen := map[string]int{}
	for _, n := range order {
		seen[strings.TrimSuffix(n, "/")]++
	}
	for n, count := range seen {
		assert.Equal(t, 1, count, "%s appears once (docker import rejects duplicates)", n)
	}

	err := writeNodeTar(io.Discard, base, []overlayFile{{dest: "/x", src: filepath.Join(dir, "missing")}})
	assert.ErrorContains(t, err, "overlay /x")
}

func TestOptionsErrors(t *testing.T) {
	t.Parallel()
	_, err := sourceDir(t.TempDir())
	assert.ErrorContains(t, err, "not build/k8s")
	src, err := sourceDir("")
	require.NoError(t, err, "found from the package directory")
	assert.Equal(t, "k8s", filepath.Base(src))

	dir, err := CacheDir("rel/cache")
	require.NoError(t, err)
	assert.True(t, filepath.IsAbs(dir))
}

func TestRunFlags(t *testing.T) {
	t.Parallel()
	f := RunFlags()
	s := strings.Join(f, " ")
	for _, want := range []string{"--cap-add ALL", "--cap-drop SYS_RESOURCE", "--cgroupns=private", "--volume /var", "--device /dev/kmsg"} {
		assert.Contains(t, s, want)
	}
	assert.NotContains(t, s, "--privileged", "runc cannot apply all capabilities on this daemon")
	f[0] = "changed"
	assert.Equal(t, "--cap-add", RunFlags()[0], "RunFlags returns a copy")
}

func TestLockCacheWaitsForTheHolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	unlock, err := lockCache(context.Background(), dir)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	_, err = lockCache(ctx, dir)
	require.ErrorIs(t, err, context.DeadlineExceeded, "a second build waits while the first holds the lock")
	unlock()
	unlock2, err := lockCache(context.Background(), dir)
	require.NoError(t, err, "free again after release")
	unlock2()
}

// TestNodeScriptsParse runs bash's parser over the scripts baked into the
// node image; a syntax error would only show inside a container otherwise.
func TestNodeScriptsParse(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	for _, name := range []string{"k8snode-init", "systemctl"} {
		data, err := files.ReadFile("files/" + name)
		require.NoError(t, err)
		out, err := exec.CommandContext(t.Context(), bash, "-n", "-c", string(data)).CombinedOutput()
		assert.NoError(t, err, "%s: %s", name, out)
	}
}

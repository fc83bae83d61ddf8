package k8snode

import (
	"archive/tar"
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/internal/proc/proctest"
)

// testBuilder is a builder without a source tree or Go toolchain, for the
// steps that need neither.
func testBuilder(t *testing.T) *builder {
	return &builder{
		opts:      Options{ImageName: "planetstage/k8snode"},
		log:       slog.New(slog.DiscardHandler),
		cache:     t.TempDir(),
		dockerCLI: "docker",
		// The stand-in commands need none of Requirements.
		toolsChecked: true,
	}
}

// slowTree is a shell script that stands in for `go build` and its
// compilers: after setup it starts a child that writes its PID to the file
// named by $1 and sleeps a minute in the foreground.
func slowTree(setup string) string {
	return setup + ` sh -c 'echo $$ > "$1"; exec sleep 60' child "$1"; echo "went on after its child"`
}

func needSh(t *testing.T) string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("needs sh on PATH to run stand-in commands")
	}
	if _, err := exec.LookPath("sleep"); err != nil {
		t.Skip("needs sleep on PATH to run stand-in commands")
	}
	return sh
}

// cancelWhenStarted cancels once the stand-in's child has written its PID
// and returns the PID and the call's result, failing if the call does not
// return within ten seconds.
func cancelWhenStarted(t *testing.T, cancel context.CancelFunc, pidFile string, done <-chan error) (child int, err error, elapsed time.Duration) {
	t.Helper()
	child = proctest.PID(t, pidFile)
	start := time.Now()
	cancel()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("still running ten seconds after cancel")
	}
	return child, err, time.Since(start)
}

// The two ways a program may take SIGINT: die of it, or exit 0 (as some
// tools do when interrupted, output unfinished). Both must read as
// cancelled.
var interruptions = []struct{ name, setup string }{
	{"dies of SIGINT", ""},
	{"exits 0 on SIGINT", `trap 'exit 0' INT;`},
}

// TestRunStopsOnCancel: cancelling ctx stops the program and its child
// within seconds and run returns ctx's error.
func TestRunStopsOnCancel(t *testing.T) {
	t.Parallel()
	sh := needSh(t)
	for _, tc := range interruptions {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := testBuilder(t)
			pidFile := filepath.Join(t.TempDir(), "child.pid")
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- b.run(ctx, t.TempDir(), nil, nil, sh, "-c", slowTree(tc.setup), "slow", pidFile) }()

			child, err, elapsed := cancelWhenStarted(t, cancel, pidFile, done)
			assert.ErrorIs(t, err, context.Canceled)
			assert.Less(t, elapsed, 3*time.Second)
			assert.True(t, proctest.Gone(child), "the child (pid %d) outlived the cancel", child)
		})
	}
}

// TestCancelledStageLeavesNoMarker: a stage cancelled half way leaves
// neither its output nor its temporary directory, so the next build redoes
// it; and that build replaces what a killed one left.
func TestCancelledStageLeavesNoMarker(t *testing.T) {
	t.Parallel()
	sh := needSh(t)
	for _, tc := range interruptions {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := testBuilder(t)
			final := filepath.Join(b.cache, "bin-0123456789abcdef")
			pidFile := filepath.Join(t.TempDir(), "child.pid")
			res := &Result{}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				done <- b.stage(ctx, res, "binaries", final, func(ctx context.Context, tmp string) error {
					if err := os.WriteFile(filepath.Join(tmp, "kubelet"), []byte("half"), 0o755); err != nil {
						return err
					}
					return b.run(ctx, tmp, nil, nil, sh, "-c", slowTree(tc.setup), "slow", pidFile)
				})
			}()

			_, err, _ := cancelWhenStarted(t, cancel, pidFile, done)
			require.ErrorIs(t, err, context.Canceled)
			assert.NoDirExists(t, final, "an interrupted stage must not look done")
			assert.NoDirExists(t, final+".tmp", "an interrupted stage's files are removed")
			assert.Empty(t, res.Built)

			// A killed build leaves its temporary directory; the next one
			// starts from scratch and marks the stage done.
			require.NoError(t, os.MkdirAll(final+".tmp", 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(final+".tmp", "stale"), nil, 0o644))
			err = b.stage(t.Context(), res, "binaries", final, func(_ context.Context, tmp string) error {
				return os.WriteFile(filepath.Join(tmp, "kubelet"), []byte("whole"), 0o755)
			})
			require.NoError(t, err)
			assert.FileExists(t, filepath.Join(final, ".done"))
			assert.NoFileExists(t, filepath.Join(final, "stale"))
			data, err := os.ReadFile(filepath.Join(final, "kubelet"))
			require.NoError(t, err)
			assert.Equal(t, "whole", string(data))
			assert.Equal(t, []string{"binaries"}, res.Built)
		})
	}
}

// TestNodeImageTaggedOnlyWhenComplete runs nodeImage against a stand-in
// docker that logs its calls: the image gets its tag (which is what marks it
// done) only after a complete import; an import cut short by the tar writer
// or by ctx leaves no tag, and an image imported in vain is removed.
func TestNodeImageTaggedOnlyWhenComplete(t *testing.T) {
	t.Parallel()
	needSh(t) // the stand-in docker is a shell script
	const id = "sha256:feedfeedfeed"
	tests := []struct {
		name        string
		importer    string // what the stand-in does after reading the tar
		breakTar    bool   // a binary is missing, so the writer fails half way
		cancel      bool
		wantErr     string
		wantTag     bool
		wantRemoved bool
	}{
		{name: "complete", importer: "echo " + id, wantTag: true},
		{name: "tar writer fails at an entry boundary", importer: "echo " + id, breakTar: true,
			wantErr: "overlay /usr/local/bin/kubelet", wantRemoved: true},
		{name: "docker import fails", importer: `echo "import refused" >&2; exit 1`, wantErr: "import refused"},
		{name: "cancelled during the import", importer: `echo $$ > "$PIDFILE"; sleep 60; echo ` + id, cancel: true,
			wantErr: context.Canceled.Error()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			res, nodeBase := nodeImageInputs(t, dir)
			if tc.breakTar {
				require.NoError(t, os.Remove(filepath.Join(res.BinDir, "kubelet")))
			}
			log, pidFile := filepath.Join(dir, "docker.log"), filepath.Join(dir, "import.pid")
			b := testBuilder(t)
			b.dockerCLI = fakeDocker(t, dir, log, pidFile, tc.importer)

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			type result struct {
				ref string
				err error
			}
			done := make(chan result, 1)
			go func() {
				ref, err := b.nodeImage(ctx, res, nodeBase)
				done <- result{ref, err}
			}()
			var got result
			if tc.cancel {
				proctest.PID(t, pidFile)
				cancel()
			}
			select {
			case got = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("nodeImage still running after ten seconds")
			}

			calls, err := os.ReadFile(log)
			require.NoError(t, err)
			lines := strings.Split(strings.TrimSpace(string(calls)), "\n")
			require.GreaterOrEqual(t, len(lines), 2, "inspect, then import: %q", lines)
			assert.True(t, strings.HasPrefix(lines[1], "import ") && strings.HasSuffix(lines[1], " -"),
				"the import names no tag: %q", lines[1])
			if tc.wantErr != "" {
				assert.ErrorContains(t, got.err, tc.wantErr)
				assert.Empty(t, res.Built)
			} else {
				require.NoError(t, got.err)
				assert.Equal(t, []string{"node-image"}, res.Built)
			}
			tagged := slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "tag ") })
			assert.Equal(t, tc.wantTag, tagged, "docker calls: %q", lines)
			if tc.wantTag {
				assert.Equal(t, "tag "+id+" "+got.ref, lines[len(lines)-1], "the tag comes last")
			}
			assert.Equal(t, tc.wantRemoved, slices.Contains(lines, "image rm "+id), "docker calls: %q", lines)
		})
	}
}

// fakeDocker writes a stand-in docker CLI that appends each call's
// arguments to log: `image inspect` finds nothing, `import` reads the tar
// and then runs importer, everything else succeeds.
func fakeDocker(t *testing.T, dir, log, pidFile, importer string) string {
	t.Helper()
	script := `#!/bin/sh
echo "$*" >> '` + log + `'
PIDFILE='` + pidFile + `'
case "$1 $2" in
"image inspect") exit 1 ;;
import*) cat > /dev/null; ` + importer + ` ;;
esac
`
	path := filepath.Join(dir, "docker")
	require.NoError(t, os.WriteFile(path, []byte(script), 0o755))
	return path
}

// nodeImageInputs makes stand-ins of the binaries, component image tarballs
// and base root file system nodeImage puts together.
func nodeImageInputs(t *testing.T, dir string) (*Result, string) {
	t.Helper()
	res := &Result{
		BinDir:   filepath.Join(dir, "bin-0123"),
		ImageDir: filepath.Join(dir, "images-4567"),
		Images:   []string{"registry.k8s.io/pause:3.10.2", "registry.k8s.io/etcd:3.7.0-0"},
	}
	require.NoError(t, os.MkdirAll(res.BinDir, 0o755))
	require.NoError(t, os.MkdirAll(res.ImageDir, 0o755))
	for bin := range nodeBinaries {
		require.NoError(t, os.WriteFile(filepath.Join(res.BinDir, bin), []byte("ELF"), 0o755))
	}
	for _, ref := range res.Images {
		require.NoError(t, os.WriteFile(filepath.Join(res.ImageDir, imageFile(ref)), []byte("tar"), 0o644))
	}
	var base bytes.Buffer
	tw := tar.NewWriter(&base)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "./etc/", Typeflag: tar.TypeDir, Mode: 0o755}))
	require.NoError(t, tw.Close())
	rootfs := filepath.Join(dir, "rootfs-89ab")
	require.NoError(t, os.MkdirAll(rootfs, 0o755))
	nodeBase := filepath.Join(rootfs, "node-base.tar")
	require.NoError(t, os.WriteFile(nodeBase, base.Bytes(), 0o644))
	return res, nodeBase
}

// TestFailingLaneStopsTheOther: the binaries stage compiles Kubernetes in
// one lane and the rest in another; when a component of one lane fails,
// the other lane's compile is stopped at once (not left to run its ten
// minutes), the error names the component that failed, and the stage
// leaves nothing behind. A stand-in `go` on PATH plays both compiles.
func TestFailingLaneStopsTheOther(t *testing.T) {
	sh := needSh(t)
	bin, src := t.TempDir(), t.TempDir()
	pidFile := filepath.Join(t.TempDir(), "kubernetes.pid")
	fake := "#!" + sh + "\n" + `case "$PWD" in
*/kubernetes) sh -c 'echo $$ > "$1"; exec sleep 60' child "` + pidFile + `" ;;
*/crictl) until [ -s "` + pidFile + `" ]; do sleep 0.1; done; echo "crictl: does not compile" >&2; exit 1 ;;
*) for a in "$@"; do
     if [ "$prev" = -o ]; then case "$a" in */) for n in $BINS; do : > "$a$n"; done ;; *) : > "$a" ;; esac; fi
     prev=$a
   done ;;
esac
`
	require.NoError(t, os.WriteFile(filepath.Join(bin, "go"), []byte(fake), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	comps, err := DefaultVersions.components()
	require.NoError(t, err)
	var bins []string
	for _, c := range comps {
		require.NoError(t, os.MkdirAll(filepath.Join(src, c.dir), 0o755))
		bins = append(bins, c.wantBins...)
	}
	t.Setenv("BINS", strings.Join(bins, " "))
	b := testBuilder(t)
	b.v, b.src = DefaultVersions, src

	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := b.binaries(t.Context(), &Result{})
		done <- err
	}()
	child := proctest.PID(t, pidFile)
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the stage still ran 20 s after a lane failed")
	}
	require.Error(t, err)
	assert.Contains(t, err.Error(), "component crictl")
	assert.Contains(t, err.Error(), "does not compile")
	assert.NotContains(t, err.Error(), "component kubernetes", "the lane that was stopped is not the cause")
	assert.Less(t, time.Since(start), 20*time.Second)
	assert.True(t, proctest.Gone(child), "the Kubernetes compile (pid %d) outlived the other lane's failure", child)
	matches, _ := filepath.Glob(filepath.Join(b.cache, "bin-*"))
	assert.Empty(t, matches, "a failed stage leaves nothing")
}

package k8snode

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/planetstage/planetstage/internal/atomicfile"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/preflight"
)

// recipeVersion is part of every cache key: bump it when the build steps
// change in a way the hashed inputs do not show.
const recipeVersion = "k8snode-recipe-2"

// Options configure Build. The zero value works on a machine with Go,
// mmdebstrap and Docker, run from inside the planetstage checkout.
type Options struct {
	// Versions pins the components; zero means DefaultVersions.
	Versions Versions
	// SourceDir is the build/k8s directory holding the wrapper modules.
	// Empty: found by walking up from the working directory to the
	// planetstage module root.
	SourceDir string
	// CacheDir holds the outputs, GOCACHE and GOMODCACHE, outside the clone.
	// Empty: $PLANETSTAGE_CACHE, else $XDG_CACHE_HOME/planetstage, else
	// ~/.cache/planetstage.
	CacheDir string
	// ImageRepository is the repository the component images are tagged
	// with; it must match the kubeadm ClusterConfiguration. Empty:
	// "registry.k8s.io", kubeadm's default, so an unset imageRepository works.
	ImageRepository string
	// ImageName is the Docker repository of the node image (tag = hash).
	// Empty: "planetstage/k8snode".
	ImageName string
	// Log receives one line per phase; nil discards.
	Log *slog.Logger
	// Hook receives a Started and a Finished event for every stage that
	// is built and every component compiled (IDs "node-image/rootfs",
	// "node-image/go/kubernetes", …), so that a long cold build shows what
	// it is doing; cached stages send nothing. Nil: no events.
	Hook plan.Hook
	// Preflight tunes the check of Requirements before the first stage
	// that has to be built (by default, missing Debian packages are
	// installed with apt-get when running as root).
	Preflight preflight.Options
}

// Result says what Build produced. Every path is inside Options.CacheDir.
type Result struct {
	Image    string        // Docker reference of the node image, e.g. planetstage/k8snode:3f2a…
	BinDir   string        // the built binaries
	ImageDir string        // the component image tarballs (also inside the node image)
	Images   []string      // component image references, as kubeadm expects them
	Built    []string      // stages that were (re)built this time; empty when fully cached
	Elapsed  time.Duration // wall time of this Build call
}

// Build builds (or reuses from the cache) the binaries, the component image
// tarballs and the node image, and returns the node image's reference.
// What earlier builds left and this one does not use (other versions'
// stages and node images) is removed; Go's caches stay. Each
// stage is cached by a hash of its inputs.
//
// Cancelling ctx stops the running program and everything it started
// within seconds (its process group gets SIGINT, then SIGKILL five seconds
// later) and Build returns ctx's error. A stage is marked done, and the node image tagged, only once
// complete, so the next Build redoes what was interrupted; the interrupted
// stage's files are removed on the way out, and what a killed process left
// (a temporary directory, an untagged image) a later Build removes.
func Build(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	b, err := newBuilder(ctx, opts)
	if err != nil {
		return nil, err
	}
	unlock, err := lockCache(ctx, b.cache)
	if err != nil {
		return nil, err
	}
	defer unlock()
	res := &Result{}
	// The root file systems (mmdebstrap: mostly downloads and unpacking)
	// are made while the compile keeps the CPUs busy.
	rootfsCtx, cancelRootfs := context.WithCancel(ctx)
	defer cancelRootfs()
	type rootfsResult struct {
		node, proxy string
		err         error
	}
	rootfsDone := make(chan rootfsResult, 1)
	go func() {
		var r rootfsResult
		r.node, r.proxy, r.err = b.rootfs(rootfsCtx, res)
		rootfsDone <- r
	}()
	res.BinDir, err = b.binaries(ctx, res)
	if err != nil {
		cancelRootfs()
		<-rootfsDone
		return nil, err
	}
	rf := <-rootfsDone
	if rf.err != nil {
		return nil, rf.err
	}
	nodeBase, proxyBase := rf.node, rf.proxy
	if res.ImageDir, res.Images, err = b.componentImages(ctx, res, res.BinDir, proxyBase); err != nil {
		return nil, err
	}
	if res.Image, err = b.nodeImage(ctx, res, nodeBase); err != nil {
		return nil, err
	}
	b.prune(ctx, []string{res.BinDir, res.ImageDir, filepath.Dir(nodeBase)}, res.Image)
	res.Elapsed = time.Since(start)
	b.log.Info("node image ready", "image", res.Image, "built", res.Built, "seconds", res.Elapsed.Seconds())
	return res, nil
}

type builder struct {
	opts   Options
	v      Versions
	src    string
	cache  string
	log    *slog.Logger
	goVers string
	// dockerCLI is "docker"; tests put a stand-in here.
	dockerCLI string
	// toolsChecked: the preflight passed (ensureTools); toolsMu makes
	// stages built at once wait for one preflight.
	toolsMu      sync.Mutex
	toolsChecked bool
	// mu serializes what stages built at once share: Result.Built and
	// Options.Hook (which is never called concurrently).
	mu sync.Mutex
	// requirements are what ensureTools checks; nil: Requirements.
	requirements func() []preflight.Requirement
}

func newBuilder(ctx context.Context, opts Options) (*builder, error) {
	b := &builder{opts: opts, v: opts.Versions, log: opts.Log, dockerCLI: "docker"}
	if b.v == (Versions{}) {
		b.v = DefaultVersions
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.opts.ImageRepository == "" {
		b.opts.ImageRepository = "registry.k8s.io"
	}
	if b.opts.ImageName == "" {
		b.opts.ImageName = "planetstage/k8snode"
	}
	var err error
	if b.src, err = sourceDir(opts.SourceDir); err != nil {
		return nil, err
	}
	if b.cache, err = CacheDir(opts.CacheDir); err != nil {
		return nil, err
	}
	b.cache = filepath.Join(b.cache, "k8snode")
	out, err := b.output(ctx, nil, "go", "env", "GOVERSION")
	if err != nil {
		return nil, fmt.Errorf("go toolchain: %w", err)
	}
	b.goVers = strings.TrimSpace(string(out))
	return b, nil
}

// CacheDir resolves the cache directory as Options.CacheDir documents. Build
// keeps its files in its "k8snode" subdirectory.
func CacheDir(dir string) (string, error) {
	switch {
	case dir != "":
	case os.Getenv("PLANETSTAGE_CACHE") != "":
		dir = os.Getenv("PLANETSTAGE_CACHE")
	case os.Getenv("XDG_CACHE_HOME") != "":
		dir = filepath.Join(os.Getenv("XDG_CACHE_HOME"), "planetstage")
	default:
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cache dir: %w (set Options.CacheDir or PLANETSTAGE_CACHE)", err)
		}
		dir = filepath.Join(home, ".cache", "planetstage")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("cache dir %q: %w", dir, err)
	}
	return abs, nil
}

// sourceDir finds build/k8s: the given directory, or the planetstage module
// root above the working directory.
func sourceDir(dir string) (string, error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("source dir: %w", err)
		}
		for d := wd; ; d = filepath.Dir(d) {
			mod, err := os.ReadFile(filepath.Join(d, "go.mod"))
			if err == nil && bytes.HasPrefix(bytes.TrimSpace(mod), []byte("module github.com/planetstage/planetstage\n")) {
				dir = filepath.Join(d, "build", "k8s")
				break
			}
			if filepath.Dir(d) == d {
				return "", errors.New("source dir: no planetstage checkout above the working directory; set Options.SourceDir to its build/k8s")
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "kubernetes", "go.mod")); err != nil {
		return "", fmt.Errorf("source dir %q: not build/k8s: %w", dir, err)
	}
	return dir, nil
}

// hashOf returns a short content hash of its parts.
func hashOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// treeDigest hashes every file under dir (names and contents, sorted).
func treeDigest(dir string) (string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// tools.go only keeps go mod tidy honest (build tag "tools"); it
		// never changes a binary, so it is not part of the key.
		if d.Type().IsRegular() && d.Name() != "tools.go" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("source dir %q: %w", dir, err)
	}
	slices.Sort(files)
	h := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(dir, f)
		fmt.Fprintf(h, "%s %d\n", rel, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// stage runs fn into a temporary directory next to final and renames it into
// place, so a stage is either complete or absent. A complete stage is reused.
// The temporary directory is removed when fn fails or ctx ends; one that a
// killed process left behind is removed when the stage next runs (same
// inputs) or by prune (other inputs).
func (b *builder) stage(ctx context.Context, res *Result, name, final string, fn func(ctx context.Context, tmp string) error) error {
	if _, err := os.Stat(filepath.Join(final, ".done")); err == nil {
		b.log.Debug("cached", "stage", name, "dir", final)
		return nil
	}
	if err := b.ensureTools(ctx); err != nil {
		return err
	}
	return b.step(name, "stage "+name, func() error { return b.buildStage(ctx, res, name, final, fn) })
}

func (b *builder) buildStage(ctx context.Context, res *Result, name, final string, fn func(ctx context.Context, tmp string) error) error {
	start := time.Now()
	b.log.Info("building", "stage", name)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return fmt.Errorf("stage %s: %w", name, err)
	}
	tmp := final + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("stage %s: clean %s: %w", name, tmp, err)
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return fmt.Errorf("stage %s: %w", name, err)
	}
	renamed := false
	defer func() {
		// A failed or interrupted stage leaves nothing: the binaries stage
		// alone is about 0.8 GB.
		if !renamed {
			if err := os.RemoveAll(tmp); err != nil {
				b.log.Warn("cannot remove an unfinished stage; the next build does", "stage", name, "dir", tmp, "error", err)
			}
		}
	}()
	if err := fn(ctx, tmp); err != nil {
		return fmt.Errorf("stage %s: %w", name, err)
	}
	// The marker says the stage is complete, so it goes to disk (file and
	// directory synced) before the stage is renamed into place.
	if err := atomicfile.Write(filepath.Join(tmp, ".done"), []byte(time.Since(start).String()+"\n"), 0o644); err != nil {
		return fmt.Errorf("stage %s: %w", name, err)
	}
	if err := os.RemoveAll(final); err != nil {
		return fmt.Errorf("stage %s: %w", name, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("stage %s: %w", name, err)
	}
	renamed = true
	b.mu.Lock()
	res.Built = append(res.Built, name)
	b.mu.Unlock()
	b.log.Info("built", "stage", name, "seconds", time.Since(start).Seconds())
	return nil
}

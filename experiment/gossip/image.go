package gossip

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/planetstage/planetstage/internal/proc"
	"github.com/planetstage/planetstage/remote"
)

// ImageRepository is the repository of the peer's image; its tag is a hash
// of the binary, so a changed peer is a new image.
const ImageRepository = "planetstage.io/gossip-peer"

// binaryPath is where the image holds the peer.
const binaryPath = "/peer"

// BuildPeer compiles the peer into a static Linux binary and returns it:
// the built-in one (WritePeerSource) when dir is empty, else the Go module
// at dir (its main package). Its dependencies come from the Go module
// proxy (GOFLAGS=-mod=mod) and are cached as any build's.
func BuildPeer(ctx context.Context, dir string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "gossip-peer-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	args := []string{"build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(tmp, "peer")}
	what := dir
	if dir == "" {
		dir, what = filepath.Join(tmp, "src"), "the built-in peer"
		if err := WritePeerSource(dir); err != nil {
			return nil, err
		}
	} else if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return nil, fmt.Errorf("gossip: peer source %s: no go.mod there (leave PeerSource empty for the built-in peer): %w", dir, err)
	}
	cmd := proc.Command(ctx, "go", append(args, ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=-mod=mod")
	if msg, err := cmd.CombinedOutput(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("gossip: go build %s: %w", what, ctx.Err())
		}
		return nil, fmt.Errorf("gossip: go build %s: %w: %s", what, err, strings.TrimSpace(string(msg)))
	}
	return os.ReadFile(filepath.Join(tmp, "peer"))
}

// Image packs the peer binary into an image of one layer (the binary,
// nothing else: it is static) as a docker-save archive, which containerd
// imports (ctr images import), and returns its reference and the archive.
func Image(binary []byte) (ref string, archive []byte, err error) {
	if len(binary) == 0 {
		return "", nil, fmt.Errorf("gossip: image: the peer binary is empty")
	}
	sum := sha256.Sum256(binary)
	ref = ImageRepository + ":" + hex.EncodeToString(sum[:])[:12]
	epoch := time.Unix(0, 0).UTC()

	var layer bytes.Buffer
	lw := tar.NewWriter(&layer)
	if err := lw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(binaryPath, "/"), Mode: 0o755, Size: int64(len(binary)),
		Typeflag: tar.TypeReg, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
		return "", nil, err
	}
	if _, err := lw.Write(binary); err != nil {
		return "", nil, err
	}
	if err := lw.Close(); err != nil {
		return "", nil, err
	}
	layerSum := sha256.Sum256(layer.Bytes())
	layerID := hex.EncodeToString(layerSum[:])
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "created": epoch,
		"config": map[string]any{"Entrypoint": []string{binaryPath}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + layerID}},
	})
	if err != nil {
		return "", nil, err
	}
	configSum := sha256.Sum256(config)
	configName := hex.EncodeToString(configSum[:]) + ".json"
	manifest, err := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string{ref}, "Layers": []string{layerID + "/layer.tar"}}})
	if err != nil {
		return "", nil, err
	}
	var out bytes.Buffer
	w := tar.NewWriter(&out)
	for _, f := range []struct {
		name string
		data []byte
	}{{configName, config}, {layerID + "/layer.tar", layer.Bytes()}, {"manifest.json", manifest}} {
		if err := w.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg, ModTime: epoch}); err != nil {
			return "", nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return "", nil, err
		}
	}
	if err := w.Close(); err != nil {
		return "", nil, err
	}
	return ref, out.Bytes(), nil
}

// loadImage imports the archive into the node's containerd, in the
// namespace the kubelet uses: no registry is involved, so the workload
// runs it with imagePullPolicy Never.
func loadImage(ctx context.Context, r remote.Runner, archive []byte) error {
	const path = "/var/tmp/gossip-peer-image.tar"
	if err := r.WriteFile(ctx, path, archive, 0o644); err != nil {
		return fmt.Errorf("%s: copy the peer image: %w", r.Host(), err)
	}
	if _, err := remote.Output(ctx, r, "ctr -n k8s.io images import --platform linux/amd64 "+path+" >/dev/null && rm -f "+path); err != nil {
		return fmt.Errorf("%s: import the peer image: %w", r.Host(), err)
	}
	return nil
}

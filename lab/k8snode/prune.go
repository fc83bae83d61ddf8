package k8snode

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// stagePrefixes name the cache directories of Build's stages; each is
// followed by the hash of the stage's inputs.
var stagePrefixes = []string{"bin-", "rootfs-", "images-"}

// prune removes what earlier builds left and this one does not use: stage
// directories with other hashes (about 0.8 GB of binaries each), node
// images of the same repository with other tags, and untagged node images
// (imports that did not finish). Go's caches stay, so going back to an
// earlier version relinks in about a minute instead of recompiling. It
// runs under the cache lock, so no other Build is using what it removes; an
// image a container still runs stays (docker refuses), and any failure here
// only leaves files behind.
func (b *builder) prune(ctx context.Context, keepDirs []string, keepImage string) {
	for _, dir := range staleStageDirs(b.cache, keepDirs) {
		if err := os.RemoveAll(dir); err != nil {
			b.log.Warn("prune: cannot remove an old stage", "dir", dir, "error", err)
			continue
		}
		b.log.Info("prune: removed an old stage", "dir", dir)
	}
	out, err := b.docker(ctx, nil, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", b.opts.ImageName)
	if err != nil {
		return
	}
	for _, ref := range strings.Fields(out) {
		if ref == keepImage {
			continue
		}
		if _, err := b.docker(ctx, nil, "image", "rm", ref); err != nil {
			b.log.Info("prune: old node image kept (in use?)", "image", ref)
			continue
		}
		b.log.Info("prune: removed an old node image", "image", ref)
	}
	out, err = b.docker(ctx, nil, "image", "ls", "--quiet", "--no-trunc",
		"--filter", "dangling=true", "--filter", "label="+nodeImageLabel)
	if err != nil {
		return
	}
	for _, id := range strings.Fields(out) {
		if _, err := b.docker(ctx, nil, "image", "rm", id); err != nil {
			b.log.Info("prune: unfinished node image kept", "image", id, "error", err)
			continue
		}
		b.log.Info("prune: removed an unfinished node image", "image", id)
	}
}

// staleStageDirs lists the stage directories (finished or interrupted)
// under cache that are not in keep.
func staleStageDirs(cache string, keep []string) []string {
	entries, err := os.ReadDir(cache)
	if err != nil {
		return nil
	}
	var stale []string
	for _, e := range entries {
		path := filepath.Join(cache, e.Name())
		isStage := slices.ContainsFunc(stagePrefixes, func(p string) bool { return strings.HasPrefix(e.Name(), p) })
		if e.IsDir() && isStage && !slices.Contains(keep, path) {
			stale = append(stale, path)
		}
	}
	return stale
}

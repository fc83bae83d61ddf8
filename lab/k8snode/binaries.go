package k8snode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// binaries builds every component through the Go module proxy with the
// pinned wrapper modules, GOTOOLCHAIN=local and -trimpath. The Go caches
// live in the cache directory so a cold build happens once per machine.
//
// Kubernetes, most of the work, compiles in one lane while the other
// components compile one after another in a second: one `go build` leaves
// a core idle while it downloads modules, loads packages and links, and a
// second lane fills it. A lane that fails stops the other.
func (b *builder) binaries(ctx context.Context, res *Result) (string, error) {
	comps, err := b.v.components()
	if err != nil {
		return "", err
	}
	src, err := treeDigest(b.src)
	if err != nil {
		return "", err
	}
	key := hashOf(recipeVersion, fmt.Sprintf("%+v", b.v), src, b.goVers)
	final := filepath.Join(b.cache, "bin-"+key)
	err = b.stage(ctx, res, "binaries", final, func(ctx context.Context, tmp string) error {
		var big, rest []component
		for _, c := range comps {
			if c.dir == "kubernetes" {
				big = append(big, c)
			} else {
				rest = append(rest, c)
			}
		}
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		lane := func(cs []component) error {
			for _, c := range cs {
				if err := b.goBuild(ctx, c, tmp); err != nil {
					cancel(err)
					return err
				}
			}
			return nil
		}
		errs := make(chan error, 1)
		go func() { errs <- lane(big) }()
		err := lane(rest)
		bigErr := <-errs
		// The lane that failed first is the cause; the other one only
		// reports that it was stopped.
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return cause
		}
		return errors.Join(err, bigErr)
	})
	return final, err
}

func (b *builder) goEnv(cgo bool) []string {
	cgoVal := "0"
	if cgo {
		cgoVal = "1"
	}
	return []string{
		"GOTOOLCHAIN=local",
		"GOFLAGS=-mod=readonly -buildvcs=false",
		"GOCACHE=" + filepath.Join(b.cache, "gocache"),
		"GOMODCACHE=" + filepath.Join(b.cache, "gomodcache"),
		"CGO_ENABLED=" + cgoVal,
		"GOOS=linux", "GOARCH=amd64",
	}
}

func (b *builder) goBuild(ctx context.Context, c component, out string) error {
	dir := filepath.Join(b.src, c.dir)
	// -s -w leave DWARF out of the binaries; -dwarf=false keeps the
	// compiler from making it in the first place.
	args := []string{"build", "-trimpath", "-gcflags=all=-dwarf=false", "-ldflags", "-s -w " + c.ldflags}
	if c.tags != "" {
		args = append(args, "-tags", c.tags)
	}
	target := out + string(filepath.Separator)
	if len(c.pkgs) == 1 && c.rename != nil {
		for _, to := range c.rename {
			target = filepath.Join(out, to)
		}
	}
	args = append(args, "-o", target)
	args = append(args, c.pkgs...)
	b.log.Info("go build", "module", c.dir)
	err := b.step("go/"+c.dir, "go build "+c.dir, func() error { return b.run(ctx, dir, b.goEnv(c.cgo), nil, "go", args...) })
	if err != nil {
		return fmt.Errorf("component %s: %w", c.dir, err)
	}
	for _, w := range c.wantBins {
		if _, err := os.Stat(filepath.Join(out, w)); err != nil {
			return fmt.Errorf("component %s: binary %s missing after build: %w", c.dir, w, err)
		}
	}
	return nil
}

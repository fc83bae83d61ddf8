package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/planetstage/planetstage/lab/k8snode"
)

// runNodeImage builds (or finds in the cache) the lab's offline Kubernetes
// node image and prints its reference: what `apply --lab --layers cluster`
// and examples/thesis run their control planes and workers on.
func runNodeImage(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("stage node-image", flag.ContinueOnError)
	fs.SetOutput(errOut)
	cache := fs.String("cache", "", "cache `DIR` for binaries, image tarballs and Go caches (default $PLANETSTAGE_CACHE, else the user cache dir)")
	verbose := fs.Bool("v", false, "log each build stage to stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitError{0}
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: level}))
	image, err := nodeImage(ctx, k8snode.Options{CacheDir: *cache, Log: log}, out)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, image)
	return nil
}

// nodeImage builds or reuses the node image, saying which and how long.
func nodeImage(ctx context.Context, opts k8snode.Options, out io.Writer) (string, error) {
	fmt.Fprintln(out, " • Kubernetes node image: building or reusing (a cold build compiles Kubernetes, etcd, containerd and CoreDNS: tens of minutes on 2 cores)")
	res, err := k8snode.Build(ctx, opts)
	if err != nil {
		return "", fmt.Errorf("kubernetes node image: %w", err)
	}
	how := "cached"
	if len(res.Built) > 0 {
		how = "built " + strings.Join(res.Built, ", ")
	}
	fmt.Fprintf(out, " ✓ Kubernetes node image (%s, %s)\n", how, res.Elapsed.Round(100*time.Millisecond))
	return res.Image, nil
}

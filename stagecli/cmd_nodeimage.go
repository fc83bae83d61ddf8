package stagecli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/planetstage/planetstage/lab/k8snode"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/remote"
)

// runNodeImage builds (or finds in the cache) the lab's offline Kubernetes
// node image and prints its reference: what `apply --lab --layers cluster`
// and examples/thesis run their control planes and workers on.
func (c *CLI) runNodeImage(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet(c.name()+" node-image", flag.ContinueOnError)
	fs.SetOutput(errOut)
	cache := fs.String("cache", "", "cache `DIR` for binaries, image tarballs and Go caches (default $PLANETSTAGE_CACHE, else the user cache dir)")
	verbose := fs.Bool("v", false, "log each build stage to stderr")
	asEnv := fs.Bool("env", false, "print shell assignments instead (PLANETSTAGE_NODE_IMAGE, and PLANETSTAGE_K8S_BIN and PLANETSTAGE_KUBEADM, which the kubeadm package's tests use to run the real binaries), for eval; progress goes to stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: level}))
	progress := out
	if *asEnv {
		progress = errOut
	}
	res, err := buildNodeImage(ctx, k8snode.Options{CacheDir: *cache, Log: log}, progress)
	if err != nil {
		return err
	}
	if *asEnv {
		fmt.Fprintf(out, "PLANETSTAGE_NODE_IMAGE=%s\nPLANETSTAGE_K8S_BIN=%s\nPLANETSTAGE_KUBEADM=%s\n",
			remote.ShellQuote(res.Image), remote.ShellQuote(res.BinDir), remote.ShellQuote(filepath.Join(res.BinDir, "kubeadm")))
		return nil
	}
	fmt.Fprintln(out, res.Image)
	return nil
}

func buildNodeImage(ctx context.Context, opts k8snode.Options, out io.Writer) (*k8snode.Result, error) {
	fmt.Fprintln(out, " • Kubernetes node image: building or reusing (a cold build compiles Kubernetes, etcd, containerd and CoreDNS: about 11 minutes on 2 cores)")
	if opts.Hook == nil {
		opts.Hook = plan.ProgressFor(out) // each stage and compile, and the packages it installs
	}
	res, err := k8snode.Build(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("kubernetes node image: %w", err)
	}
	how := "cached"
	if len(res.Built) > 0 {
		how = "built " + strings.Join(res.Built, ", ")
	}
	fmt.Fprintf(out, " ✓ Kubernetes node image (%s, %s)\n", how, res.Elapsed.Round(100*time.Millisecond))
	return res, nil
}

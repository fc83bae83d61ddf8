package main

import (
	"context"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/planetstage/planetstage/kubeadm"
	"github.com/planetstage/planetstage/topology"
)

// runDeploy is the thesis's "deploy from one point" (§5.2):
//
//	stage deploy -f FILE --image IMAGE [--name N] [--timeout 5m]
func runDeploy(ctx context.Context, args []string, out, errOut io.Writer) error {
	var o options
	var image, name string
	var timeout time.Duration
	fs := newFlagSet("deploy", errOut, &o)
	fs.StringVar(&image, "image", "", "container `IMAGE` to run on every worker (required)")
	fs.StringVar(&name, "name", "", "DaemonSet `NAME` (default: derived from the image)")
	fs.DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for the workload on every worker")
	if err := parse(fs, args, &o); err != nil {
		return err
	}
	if image == "" {
		fmt.Fprintln(errOut, "--image IMAGE is required")
		return errUsage
	}
	if name == "" {
		name = nameFromImage(image)
	}
	t, env, closeEnv, err := o.load(ctx, errOut)
	if err != nil {
		return err
	}
	defer closeEnv()
	b, err := topology.ClusterBootstrapper(t, env)
	if err != nil {
		return err
	}
	start := time.Now()
	reports, err := b.Deploy(ctx, kubeadm.Workload{Name: name, Image: image, Timeout: timeout})
	for _, r := range reports {
		mark, pod := "✓", r.Pod
		if !r.Ready {
			mark = "✗"
		}
		if pod == "" {
			pod = "-"
		}
		fmt.Fprintf(out, "%s %-12s %-30s %s\n", mark, r.Node, pod, r.Phase)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s runs on %d workers (%.1fs)\n", name, len(reports), time.Since(start).Seconds())
	return nil
}

var notLabel = regexp.MustCompile(`[^a-z0-9-]+`)

// nameFromImage turns "registry.local/team/nginx:1.27" into "nginx".
func nameFromImage(image string) string {
	base := path.Base(image)
	if i := strings.IndexAny(base, ":@"); i > 0 {
		base = base[:i]
	}
	name := strings.Trim(notLabel.ReplaceAllString(strings.ToLower(base), "-"), "-")
	if name == "" {
		return "workload"
	}
	return name
}

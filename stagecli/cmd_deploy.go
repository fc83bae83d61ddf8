package stagecli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/planetstage/planetstage/kubeadm"
)

// runDeploy is the thesis's "deploy from one point" (§5.2): a DaemonSet on
// every worker, or with --replicas a Deployment spread one replica per node.
//
//	stage deploy -f FILE --image IMAGE [--name N] [--replicas N --port P] [--lab] [--timeout 5m]
func (c *CLI) runDeploy(ctx context.Context, args []string, out, errOut io.Writer) error {
	var o options
	var image, name, pull string
	var replicas, port int
	var timeout time.Duration
	fs := c.newFlagSet("deploy", errOut, &o)
	addLabFlags(fs, &o)
	fs.StringVar(&image, "image", "", "container `IMAGE` to run on every worker (required)")
	fs.StringVar(&name, "name", "", "DaemonSet or Deployment `NAME` (default: derived from the image)")
	fs.IntVar(&replicas, "replicas", 0, "run a Deployment of `N` replicas, at most one per node, instead of a DaemonSet")
	fs.IntVar(&port, "port", 8080, "with --replicas: the container's HTTP `PORT` (readiness probe GET /)")
	fs.StringVar(&pull, "pull", "", "with --replicas: image pull `POLICY` (Always, IfNotPresent, Never; Never for images already on the nodes, as in the lab)")
	fs.DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for the workload on every worker")
	if err := parse(fs, args, &o); err != nil {
		return err
	}
	if image == "" {
		fmt.Fprintln(errOut, "--image IMAGE is required")
		return errUsage
	}
	if name == "" {
		name = kubeadm.NameFromImage(image)
	}
	tb, err := o.open(ctx, errOut, errOut)
	if err != nil {
		return err
	}
	defer tb.Close(ctx)
	b, err := tb.Bootstrapper(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	var reports []kubeadm.PodReport
	if replicas > 0 {
		reports, err = b.DeployDeployment(ctx, kubeadm.Deployment{Name: name, Image: image, Replicas: replicas, Port: port,
			PullPolicy: kubeadm.PullPolicy(pull), Timeout: timeout})
	} else {
		reports, err = b.Deploy(ctx, kubeadm.Workload{Name: name, Image: image, Timeout: timeout})
	}
	kubeadm.WritePods(out, reports)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s runs on %d nodes (%.1fs)\n", name, len(kubeadm.ReadyNodes(reports)), time.Since(start).Seconds())
	return nil
}

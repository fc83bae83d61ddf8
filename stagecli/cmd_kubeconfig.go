package stagecli

import (
	"context"
	"fmt"
	"io"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/planetstage/planetstage/kubeconfig"
)

// runKubeconfig fetches the cluster's admin kubeconfig from a control plane
// and merges it, as the context named after the topology and made current,
// into the user's kubeconfig (kubeconfig.Merge), or with --print writes it
// to stdout. Its server is the cluster's endpoint, the load balancer: in
// the lab a container this machine reaches over the Docker bridges.
//
//	stage kubeconfig -f FILE [--lab] [--kubeconfig PATH] [--print]
func (c *CLI) runKubeconfig(ctx context.Context, args []string, out, errOut io.Writer) error {
	var o options
	var path string
	var print bool
	fs := c.newFlagSet("kubeconfig", errOut, &o)
	addLabFlags(fs, &o)
	fs.StringVar(&path, "kubeconfig", "", "merge into `FILE` (default: the first path of $KUBECONFIG, else ~/.kube/config)")
	fs.BoolVar(&print, "print", false, "write the kubeconfig to stdout instead (it holds the admin's client key)")
	if err := parse(fs, args, &o); err != nil {
		return err
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
	cfg, err := b.Kubeconfig(ctx, "")
	if err != nil {
		return err
	}
	if print {
		data, err := clientcmd.Write(*cfg)
		if err != nil {
			return err
		}
		_, err = out.Write(data)
		return err
	}
	if path == "" {
		if path, err = kubeconfig.DefaultPath(); err != nil {
			return err
		}
	}
	if err := kubeconfig.Merge(path, cfg); err != nil {
		return err
	}
	name := b.Cluster.Name
	fmt.Fprintf(out, " ✓ Context %q (server %s) written to %s and made current\n", name, cfg.Clusters[name].Server, path)
	fmt.Fprintf(out, "Try: kubectl --context %s get nodes\n", name)
	return nil
}

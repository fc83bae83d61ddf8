package kubeadm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/planetstage/planetstage/remote"
)

// APIProbeTimeout bounds one API reachability probe, so a load balancer that
// accepts connections but forwards them nowhere fails the probe instead of
// hanging it.
const APIProbeTimeout = "10s"

// kubectlArgs quotes args for the shell and prefixes kubectl and the admin
// kubeconfig.
func kubectlArgs(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = remote.ShellQuote(a)
	}
	return kubectl(strings.Join(quoted, " "))
}

// KubectlOn runs kubectl with args (each quoted for the shell) and the admin
// kubeconfig on the control plane node, and returns its standard output.
// admin.conf points at the Cluster's Endpoint, so the command goes through
// the load balancer like any client's.
func (b *Bootstrapper) KubectlOn(ctx context.Context, node string, args ...string) (string, error) {
	if _, controlPlane, ok := b.Cluster.Node(node); !ok || !controlPlane {
		return "", fmt.Errorf("node %q: kubectl: not a control plane of the cluster (only they hold %s)", node, AdminKubeconfig)
	}
	r, err := b.dial(ctx, node)
	if err != nil {
		return "", err
	}
	return b.run(ctx, r, kubectlArgs(args), nil)
}

// Kubectl runs kubectl like KubectlOn on the first control plane that can
// run it, and says which one did. It tries the control plane that last
// succeeded first, then the others in the Cluster's order: a node that
// cannot be dialled or whose connection fails is passed over; a kubectl that
// ran and failed is the answer. Passing over a stopped node costs its
// transport's dial timeout and retries once; later calls start where the
// last one succeeded. Use KubectlOn to pick the node yourself.
func (b *Bootstrapper) Kubectl(ctx context.Context, args ...string) (out, via string, err error) {
	return b.onControlPlane(ctx, kubectlArgs(args), nil)
}

// onControlPlane runs command on the first control plane that can run it
// (see Kubectl).
func (b *Bootstrapper) onControlPlane(ctx context.Context, command string, stdin []byte) (out, via string, err error) {
	via, err = b.firstControlPlane(ctx, "run kubectl", func(r remote.Runner) (bool, error) {
		var err error
		out, err = b.run(ctx, r, command, stdin)
		var exit *remote.ExitError
		return err == nil || errors.As(err, &exit), err
	})
	return out, via, err
}

// firstControlPlane calls try on the control planes, the one that last
// answered first (kubectlOrder), until one answers: try says whether its
// error, nil or not, is the answer, or a reason to pass the node over. A
// node that cannot be dialled is passed over. what says, for the error when
// none answers, what they were asked to do.
func (b *Bootstrapper) firstControlPlane(ctx context.Context, what string, try func(remote.Runner) (answered bool, err error)) (via string, err error) {
	var errs []error
	for _, cp := range b.kubectlOrder() {
		r, err := b.dial(ctx, cp.Name)
		if err == nil {
			var answered bool
			if answered, err = try(r); answered {
				b.viaMu.Lock()
				b.via = cp.Name
				b.viaMu.Unlock()
				return cp.Name, err
			}
			err = fmt.Errorf("node %q: %w", cp.Name, err)
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		b.log().Debug("control plane cannot "+what+", trying the next", "node", cp.Name, "error", err)
		errs = append(errs, err)
	}
	return "", fmt.Errorf("no control plane could %s: %w", what, errors.Join(errs...))
}

// kubectlOrder is the control planes with the last one that ran kubectl
// first.
func (b *Bootstrapper) kubectlOrder() []Node {
	b.viaMu.Lock()
	via := b.via
	b.viaMu.Unlock()
	order := slices.Clone(b.Cluster.ControlPlanes)
	if i := slices.IndexFunc(order, func(n Node) bool { return n.Name == via }); i > 0 {
		order = append(append([]Node{order[i]}, order[:i]...), order[i+1:]...)
	}
	return order
}

// readyz asks the API server, through admin.conf's endpoint, whether it is
// ready to serve.
var readyz = []string{"--request-timeout=" + APIProbeTimeout, "get", "--raw", "/readyz"}

// APIReachable says whether the API answers "ok" to /readyz when asked from
// the control plane via, through the load balancer (admin.conf's endpoint).
// Stop one master, ask from another, and a nil error shows that the load
// balancer took the stopped one out and the API still serves.
func (b *Bootstrapper) APIReachable(ctx context.Context, via string) error {
	out, err := b.KubectlOn(ctx, via, readyz...)
	if err != nil {
		return fmt.Errorf("api %s via %s: %w", b.Cluster.Endpoint, via, err)
	}
	if strings.TrimSpace(out) != "ok" {
		return fmt.Errorf("api %s via %s: /readyz answered %q, not ok", b.Cluster.Endpoint, via, tail(strings.TrimSpace(out), 200))
	}
	return nil
}

// APIReachableAny is APIReachable from the first control plane that can run
// kubectl (see Kubectl), and says which one answered.
func (b *Bootstrapper) APIReachableAny(ctx context.Context) (via string, err error) {
	out, via, err := b.onControlPlane(ctx, kubectlArgs(readyz), nil)
	if err != nil {
		if via == "" {
			return "", fmt.Errorf("api %s: %w", b.Cluster.Endpoint, err)
		}
		return via, fmt.Errorf("api %s via %s: %w", b.Cluster.Endpoint, via, err)
	}
	if strings.TrimSpace(out) != "ok" {
		return via, fmt.Errorf("api %s via %s: /readyz answered %q, not ok", b.Cluster.Endpoint, via, tail(strings.TrimSpace(out), 200))
	}
	return via, nil
}

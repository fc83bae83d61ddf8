package kubeadm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/planetstage/planetstage/remote"
)

// Workload is a program to run once on every worker: the thesis's "deploy
// from one point" (§5.2), as a DaemonSet.
type Workload struct {
	// Name of the DaemonSet and its pods' app label.
	Name string
	// Image to run; it must be pullable by (or already on) every worker.
	Image string
	// Args replace the image's command arguments; none when empty.
	Args []string
	// Namespace; "default" when empty.
	Namespace string
	// HostNetwork runs the pods in their node's network namespace: the
	// workload listens on the node's own address, as a peer-to-peer
	// system's nodes usually do.
	HostNetwork bool
	// PullPolicy; Kubernetes' default when empty (PullNever for an image
	// imported into the nodes offline).
	PullPolicy PullPolicy
	// Timeout bounds the wait; 5 minutes when zero.
	Timeout time.Duration
}

// PodReport is where one pod of a workload stands.
type PodReport struct {
	Node  string // empty when the pod is not scheduled
	Pod   string // empty when no pod was scheduled there (Deploy)
	Phase string // Pending, Running…
	Ready bool
	// PodIP and Reason are filled in by DeployDeployment: the pod's address
	// in the podSubnet, and why it is not Ready when the API server says
	// (a container's waiting reason such as ErrImageNeverPull, or the
	// scheduler's message).
	PodIP  string
	Reason string
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

func (w Workload) namespace() string {
	if w.Namespace == "" {
		return "default"
	}
	return w.Namespace
}

// Manifest renders the DaemonSet as JSON (which kubectl reads as YAML). No
// toleration is added, so the control planes' taint keeps it on the workers.
// The container gets its node's name from the downward API as NODE_NAME.
func (w Workload) Manifest() ([]byte, error) {
	var errs []error
	if !dnsLabel.MatchString(w.Name) {
		errs = append(errs, fmt.Errorf("workload: name %q is not a lowercase DNS label", w.Name))
	}
	if w.Image == "" || strings.ContainsAny(w.Image, " \t\n") {
		errs = append(errs, fmt.Errorf("workload: image %q is empty or has spaces", w.Image))
	}
	if w.Namespace != "" && !dnsLabel.MatchString(w.Namespace) {
		errs = append(errs, fmt.Errorf("workload: namespace %q is not a lowercase DNS label", w.Namespace))
	}
	switch w.PullPolicy {
	case "", PullAlways, PullIfNotPresent, PullNever:
	default:
		errs = append(errs, fmt.Errorf("workload: pull policy %q is not Always, IfNotPresent or Never", w.PullPolicy))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	labels := map[string]string{"app": w.Name, "app.kubernetes.io/managed-by": "planetstage"}
	container := map[string]any{"name": w.Name, "image": w.Image, "env": []any{fieldEnv("NODE_NAME", "spec.nodeName")}}
	if len(w.Args) > 0 {
		container["args"] = w.Args
	}
	if w.PullPolicy != "" {
		container["imagePullPolicy"] = string(w.PullPolicy)
	}
	pod := map[string]any{"containers": []any{container}}
	if w.HostNetwork {
		pod["hostNetwork"] = true
	}
	ds := map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "DaemonSet",
		"metadata":   map[string]any{"name": w.Name, "namespace": w.namespace(), "labels": labels},
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": map[string]string{"app": w.Name}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels},
				"spec":     pod,
			},
		},
	}
	return json.MarshalIndent(ds, "", "  ")
}

const podsJSONPath = `{range .items[*]}{.spec.nodeName}{"\t"}{.metadata.name}{"\t"}{.status.phase}{"\t"}{.status.containerStatuses[0].ready}{"\n"}{end}`

// Deploy applies the workload with kubectl on the first control plane and
// waits until a Ready pod runs on every worker of the Cluster. It returns
// one report per worker, sorted by node, also when it fails; the error names
// the workers where the workload does not run.
func (b *Bootstrapper) Deploy(ctx context.Context, w Workload) ([]PodReport, error) {
	manifest, err := w.Manifest()
	if err != nil {
		return nil, err
	}
	if len(b.Cluster.Workers) == 0 {
		return nil, fmt.Errorf("workload %q: the cluster has no workers", w.Name)
	}
	r, err := b.dial(ctx, b.Cluster.FirstControlPlane().Name)
	if err != nil {
		return nil, err
	}
	if _, err := b.run(ctx, r, kubectl("apply -f -"), manifest); err != nil {
		return nil, fmt.Errorf("workload %q: kubectl apply: %w", w.Name, err)
	}
	timeout := w.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	list := kubectl(fmt.Sprintf("get pods -n %s -l app=%s -o jsonpath=%s",
		remote.ShellQuote(w.namespace()), remote.ShellQuote(w.Name), remote.ShellQuote(podsJSONPath)))
	reports := b.podReports("")
	for {
		out, err := b.run(ctx, r, list, nil)
		switch {
		case err == nil:
			reports = b.podReports(out)
			if len(notRunning(reports)) == 0 {
				return reports, nil
			}
		case ctx.Err() == nil:
			return nil, fmt.Errorf("workload %q: list pods: %w", w.Name, err)
		}
		select {
		case <-ctx.Done():
			// The last answer kubectl gave is the report.
			return reports, errors.Join(parent.Err(), fmt.Errorf("workload %q: not running after %s on %s",
				w.Name, timeout, strings.Join(notRunning(reports), ", ")))
		case <-time.After(b.poll()):
		}
	}
}

func notRunning(reports []PodReport) []string {
	var nodes []string
	for _, rep := range reports {
		if !rep.Ready {
			nodes = append(nodes, rep.Node)
		}
	}
	return nodes
}

// podReports turns kubectl's lines into one report per worker.
func (b *Bootstrapper) podReports(out string) []PodReport {
	byNode := map[string]PodReport{}
	for line := range strings.Lines(out) {
		f := strings.Split(strings.TrimRight(line, "\n"), "\t")
		if len(f) < 4 || f[0] == "" {
			continue
		}
		byNode[f[0]] = PodReport{Node: f[0], Pod: f[1], Phase: f[2], Ready: f[2] == "Running" && f[3] == "true"}
	}
	var reports []PodReport
	for _, n := range b.Cluster.Workers {
		rep, ok := byNode[n.Name]
		if !ok {
			rep = PodReport{Node: n.Name, Phase: "NotScheduled"}
		}
		reports = append(reports, rep)
	}
	slices.SortFunc(reports, func(a, c PodReport) int { return strings.Compare(a.Node, c.Node) })
	return reports
}

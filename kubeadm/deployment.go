package kubeadm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PullPolicy says when the kubelet pulls a container's image.
type PullPolicy string

// The pull policies of Kubernetes; an empty PullPolicy leaves Kubernetes'
// default (IfNotPresent, or Always for a :latest image).
const (
	PullAlways       PullPolicy = "Always"
	PullIfNotPresent PullPolicy = "IfNotPresent"
	// PullNever runs only images already in the node's container runtime
	// (imported offline); a missing one fails with ErrImageNeverPull.
	PullNever PullPolicy = "Never"
)

// Deployment is an HTTP server run as a Kubernetes Deployment whose replicas
// are spread one per node: the thesis's nginx deployment landing on all
// workers (§5.2). A DaemonSet (Workload) runs on every worker by
// construction; a Deployment is scaled, and the spread is what shows that
// the scheduler placed pods in every site.
type Deployment struct {
	// Name of the Deployment and its pods' app label.
	Name string
	// Image to run, e.g. a locally built server preloaded into containerd.
	Image string
	// Args replace the image's command arguments; none when empty.
	Args []string
	// Namespace; "default" when empty.
	Namespace string
	// Replicas is how many pods to run, at most one per node while there
	// are at least as many schedulable nodes (the control planes' taint
	// keeps them off the masters).
	Replicas int
	// Port is the container port the server listens on; the readiness probe
	// and ProxyGet use it.
	Port int
	// PullPolicy; Kubernetes' default when empty.
	PullPolicy PullPolicy
	// Timeout bounds the wait for every replica to be Ready; 5 minutes when
	// zero.
	Timeout time.Duration
}

func (d Deployment) namespace() string {
	if d.Namespace == "" {
		return "default"
	}
	return d.Namespace
}

func (d Deployment) timeout() time.Duration {
	if d.Timeout <= 0 {
		return 5 * time.Minute
	}
	return d.Timeout
}

// Validate checks the deployment and returns every problem found.
func (d Deployment) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("deployment %q: "+format, append([]any{d.Name}, args...)...))
	}
	if !dnsLabel.MatchString(d.Name) {
		bad("name is not a lowercase DNS label")
	}
	if d.Image == "" || strings.ContainsAny(d.Image, " \t\n") {
		bad("image %q is empty or has spaces", d.Image)
	}
	if d.Namespace != "" && !dnsLabel.MatchString(d.Namespace) {
		bad("namespace %q is not a lowercase DNS label", d.Namespace)
	}
	if d.Replicas < 1 {
		bad("replicas is %d; it must be at least 1", d.Replicas)
	}
	if d.Port < 1 || d.Port > 65535 {
		bad("port %d is not a TCP port (1-65535)", d.Port)
	}
	switch d.PullPolicy {
	case "", PullAlways, PullIfNotPresent, PullNever:
	default:
		bad("pull policy %q is not Always, IfNotPresent or Never", d.PullPolicy)
	}
	return errors.Join(errs...)
}

// Manifest renders the Deployment as JSON (which kubectl reads as YAML).
//
// Its pods carry a topology spread over kubernetes.io/hostname with maxSkew
// 1 and DoNotSchedule, so N replicas land on N different nodes as long as N
// nodes can take them; nodeTaintsPolicy Honor leaves the tainted control
// planes out of the count (with the default, Ignore, they would count as
// empty nodes and block a fifth replica on four workers), and
// matchLabelKeys pod-template-hash keeps a rollout's old pods from skewing
// the new ones. A readiness probe GETs / on Port every 2 s. The container
// gets its pod's name, namespace and IP and its node's name from the
// downward API as POD_NAME, POD_NAMESPACE, POD_IP and NODE_NAME.
func (d Deployment) Manifest() ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	labels := map[string]string{"app": d.Name, "app.kubernetes.io/managed-by": "planetstage"}
	selector := map[string]any{"matchLabels": map[string]string{"app": d.Name}}
	container := map[string]any{
		"name":  d.Name,
		"image": d.Image,
		"ports": []any{map[string]any{"name": "http", "containerPort": d.Port, "protocol": "TCP"}},
		// Who and where a replica is, for a system under test that reports
		// it (the lab's web image answers with POD_NAME and NODE_NAME).
		"env": []any{
			fieldEnv("POD_NAME", "metadata.name"),
			fieldEnv("POD_NAMESPACE", "metadata.namespace"),
			fieldEnv("POD_IP", "status.podIP"),
			fieldEnv("NODE_NAME", "spec.nodeName"),
		},
		"readinessProbe": map[string]any{
			"httpGet":          map[string]any{"path": "/", "port": d.Port},
			"periodSeconds":    2,
			"failureThreshold": 3,
		},
	}
	if d.PullPolicy != "" {
		container["imagePullPolicy"] = string(d.PullPolicy)
	}
	if len(d.Args) > 0 {
		container["args"] = d.Args
	}
	dep := map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata":   map[string]any{"name": d.Name, "namespace": d.namespace(), "labels": labels},
		"spec": map[string]any{
			"replicas": d.Replicas,
			"selector": selector,
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels},
				"spec": map[string]any{
					"topologySpreadConstraints": []any{map[string]any{
						"maxSkew":           1,
						"topologyKey":       "kubernetes.io/hostname",
						"whenUnsatisfiable": "DoNotSchedule",
						"labelSelector":     selector,
						"matchLabelKeys":    []string{"pod-template-hash"},
						"nodeTaintsPolicy":  "Honor",
					}},
					"containers": []any{container},
				},
			},
		},
	}
	return json.MarshalIndent(dep, "", "  ")
}

// fieldEnv is an environment variable from the downward API.
func fieldEnv(name, path string) map[string]any {
	return map[string]any{"name": name, "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": path}}}
}

// ReadyNodes lists, sorted and once each, the nodes where a Ready pod runs.
func ReadyNodes(reports []PodReport) []string {
	var nodes []string
	for _, r := range reports {
		if r.Ready && r.Node != "" && !slices.Contains(nodes, r.Node) {
			nodes = append(nodes, r.Node)
		}
	}
	slices.Sort(nodes)
	return nodes
}

// DeployDeployment applies d with kubectl on the first control plane that
// can run it (see Kubectl) and waits until the Deployment has rolled out:
// Replicas pods of its current version, each Ready. It returns one report
// per pod, sorted by node then pod, also when the wait fails; the error then
// names every pod that is not Ready with its node, phase and reason.
// ReadyNodes of the reports is the set of nodes it landed on.
func (b *Bootstrapper) DeployDeployment(ctx context.Context, d Deployment) ([]PodReport, error) {
	manifest, err := d.Manifest()
	if err != nil {
		return nil, err
	}
	if _, _, err := b.onControlPlane(ctx, kubectl("apply -f -"), manifest); err != nil {
		return nil, fmt.Errorf("deployment %q: kubectl apply: %w", d.Name, err)
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	var (
		pods    []PodReport // the last list kubectl gave
		lastErr error       // the last failure not caused by the timeout
	)
	for {
		rolled, err := b.rolledOut(ctx, d)
		if err == nil {
			var now []PodReport
			if now, err = b.deploymentPods(ctx, d); err == nil {
				pods = now
			}
		}
		if ctx.Err() == nil {
			lastErr = err
		}
		if err == nil && rolled && len(pods) == d.Replicas && allReady(pods) {
			b.log().Info("deployment ready", "deployment", d.Name, "replicas", d.Replicas, "nodes", len(ReadyNodes(pods)))
			return pods, nil
		}
		select {
		case <-ctx.Done():
			return pods, errors.Join(parent.Err(), b.notReadyError(d, pods, lastErr))
		case <-time.After(b.poll()):
		}
	}
}

func allReady(pods []PodReport) bool {
	return !slices.ContainsFunc(pods, func(p PodReport) bool { return !p.Ready })
}

// notReadyError says which pods are not Ready, and why when known.
func (b *Bootstrapper) notReadyError(d Deployment, pods []PodReport, lastErr error) error {
	ready := 0
	var detail []string
	for _, p := range pods {
		if p.Ready {
			ready++
			continue
		}
		where := "on " + p.Node
		if p.Node == "" {
			where = "not scheduled"
		}
		why := p.Phase
		if p.Reason != "" {
			why += ": " + p.Reason
		}
		detail = append(detail, fmt.Sprintf("%s %s (%s)", p.Pod, where, why))
	}
	msg := fmt.Sprintf("deployment %q: %d of %d replicas Ready after %s", d.Name, ready, d.Replicas, d.timeout())
	if len(detail) > 0 {
		msg += ": " + strings.Join(detail, ", ")
	}
	if lastErr != nil {
		return fmt.Errorf("%s; last kubectl error: %w", msg, lastErr)
	}
	return errors.New(msg)
}

const deploymentStatusJSONPath = `{.metadata.generation}{"\t"}{.status.observedGeneration}{"\t"}{.status.replicas}{"\t"}{.status.updatedReplicas}{"\t"}{.status.readyReplicas}`

// rolledOut says whether the Deployment controller has acted on the current
// spec and every replica is updated and Ready, with no old one left.
func (b *Bootstrapper) rolledOut(ctx context.Context, d Deployment) (bool, error) {
	out, _, err := b.onControlPlane(ctx, kubectlArgs([]string{"get", "deployment", d.Name, "-n", d.namespace(),
		"-o", "jsonpath=" + deploymentStatusJSONPath}), nil)
	if err != nil {
		return false, fmt.Errorf("deployment %q: status: %w", d.Name, err)
	}
	return parseRollout(out, d.Replicas), nil
}

// parseRollout reads deploymentStatusJSONPath's output.
func parseRollout(out string, replicas int) bool {
	f := strings.Split(strings.TrimSpace(out), "\t")
	n := make([]int, 5)
	for i := range min(len(f), 5) {
		n[i], _ = strconv.Atoi(f[i]) // a missing status field is 0
	}
	generation, observed, total, updated, ready := n[0], n[1], n[2], n[3], n[4]
	return generation > 0 && observed >= generation && total == replicas && updated == replicas && ready == replicas
}

const deploymentPodsJSONPath = `{range .items[*]}{.metadata.name}{"\t"}{.spec.nodeName}{"\t"}{.status.podIP}{"\t"}{.status.phase}{"\t"}` +
	`{.status.conditions[?(@.type=="Ready")].status}{"\t"}{.metadata.deletionTimestamp}{"\t"}` +
	`{.status.containerStatuses[0].state.waiting.reason}{.status.conditions[?(@.reason=="Unschedulable")].message}{"\n"}{end}`

// deploymentPods lists the Deployment's pods that are not being deleted,
// sorted by node then pod.
func (b *Bootstrapper) deploymentPods(ctx context.Context, d Deployment) ([]PodReport, error) {
	out, _, err := b.onControlPlane(ctx, kubectlArgs([]string{"get", "pods", "-n", d.namespace(), "-l", "app=" + d.Name,
		"-o", "jsonpath=" + deploymentPodsJSONPath}), nil)
	if err != nil {
		return nil, fmt.Errorf("deployment %q: list pods: %w", d.Name, err)
	}
	return parsePods(out), nil
}

// parsePods reads deploymentPodsJSONPath's output.
func parsePods(out string) []PodReport {
	var pods []PodReport
	for line := range strings.Lines(out) {
		f := strings.Split(strings.TrimRight(line, "\n"), "\t")
		if len(f) < 7 || f[0] == "" || f[5] != "" {
			continue // not a pod line, or a pod on its way out
		}
		pods = append(pods, PodReport{Pod: f[0], Node: f[1], PodIP: f[2], Phase: f[3], Ready: f[4] == "True",
			Reason: strings.TrimSpace(strings.Join(f[6:], " "))})
	}
	slices.SortFunc(pods, func(a, c PodReport) int {
		if n := strings.Compare(a.Node, c.Node); n != 0 {
			return n
		}
		return strings.Compare(a.Pod, c.Pod)
	})
	return pods
}

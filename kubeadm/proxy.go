package kubeadm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ProxyTimeout bounds one request through the API server's pod proxy.
const ProxyTimeout = "30s"

// ProxyGet fetches path from port of a pod through the API server's pod
// proxy (`kubectl get --raw /api/v1/namespaces/NS/pods/POD:PORT/proxy/PATH`),
// run on the first control plane that can run kubectl, and returns the body.
// The API server, on a master, opens the connection to the pod's IP: when
// the pod runs in another site, the answer crossed the tunnels.
func (b *Bootstrapper) ProxyGet(ctx context.Context, namespace, pod string, port int, path string) (string, error) {
	uri, err := proxyURI(namespace, pod, port, path)
	if err != nil {
		return "", err
	}
	out, _, err := b.onControlPlane(ctx, kubectlArgs([]string{"--request-timeout=" + ProxyTimeout, "get", "--raw", uri}), nil)
	if err != nil {
		return "", fmt.Errorf("pod %q: GET %s: %w", pod, uri, err)
	}
	return out, nil
}

// proxyURI builds the pod proxy path and refuses what would not be one.
func proxyURI(namespace, pod string, port int, path string) (string, error) {
	if namespace == "" {
		namespace = "default"
	}
	var errs []error
	if !dnsLabel.MatchString(namespace) {
		errs = append(errs, fmt.Errorf("proxy: namespace %q is not a lowercase DNS label", namespace))
	}
	if !nodeName.MatchString(pod) {
		errs = append(errs, fmt.Errorf("proxy: pod name %q is not a lowercase DNS name", pod))
	}
	if port < 1 || port > 65535 {
		errs = append(errs, fmt.Errorf("proxy: port %d is not a TCP port (1-65535)", port))
	}
	if strings.ContainsFunc(path, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		errs = append(errs, fmt.Errorf("proxy: path %q has spaces or control characters", path))
	}
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	return fmt.Sprintf("/api/v1/namespaces/%s/pods/%s:%d/proxy/%s", namespace, pod, port, strings.TrimPrefix(path, "/")), nil
}

// ProxyResult is one pod's answer to ProxyEachPod.
type ProxyResult struct {
	PodReport
	// Body is what the pod answered; empty when Err is set.
	Body string
	Err  error
}

// ProxyEachPod lists the pods of d and fetches path from each through the
// API server's pod proxy (see ProxyGet), one after the other. The error is
// for the listing only; each pod's own failure, a pod that is not running
// included, is in its result's Err. Results are sorted like DeployDeployment's
// reports.
func (b *Bootstrapper) ProxyEachPod(ctx context.Context, d Deployment, path string) ([]ProxyResult, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	pods, err := b.deploymentPods(ctx, d)
	if err != nil {
		return nil, err
	}
	if len(pods) == 0 {
		return nil, fmt.Errorf("deployment %q: no pods in namespace %s", d.Name, d.namespace())
	}
	results := make([]ProxyResult, len(pods))
	for i, p := range pods {
		results[i].PodReport = p
		if err := ctx.Err(); err != nil {
			results[i].Err = err
			continue
		}
		if p.Phase != "Running" || p.PodIP == "" {
			results[i].Err = fmt.Errorf("pod %q: not running (phase %s)", p.Pod, p.Phase)
			continue
		}
		results[i].Body, results[i].Err = b.ProxyGet(ctx, d.namespace(), p.Pod, d.Port, path)
	}
	return results, ctx.Err()
}

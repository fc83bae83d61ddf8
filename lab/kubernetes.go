package lab

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/planetstage/planetstage/lab/k8snode"
)

// nodeReadyTimeout bounds a Kubernetes node's start: containerd, and on a
// fresh /var volume the import of every component image (seconds each on an
// idle machine, much longer while the machine builds or runs a cluster).
const nodeReadyTimeout = 5 * time.Minute

// kubernetesNode reports whether m runs the node image.
func (l *Lab) kubernetesNode(m Machine) bool {
	return m.Kubernetes != "" && l.nodeImg != ""
}

// waitNodeReady waits until the node image's init says containerd runs with
// the component images imported (k8snode.ReadyFile): only then can kubeadm's
// preflight find them. On a timeout the error carries the init's log.
func (l *Lab) waitNodeReady(ctx context.Context, m Machine) error {
	ctx, cancel := context.WithTimeout(ctx, nodeReadyTimeout)
	defer cancel()
	ctr := l.ContainerName(m.Name)
	for {
		if status, err := l.d.exec(ctx, execSpec{Container: ctr, Cmd: []string{"test", "-e", k8snode.ReadyFile}}); err == nil && status == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			var tail strings.Builder
			_, _ = l.d.exec(context.WithoutCancel(ctx), execSpec{Container: ctr, Cmd: []string{"tail", "-n", "5", "/var/log/k8snode-init.log"}, Stdout: &tail})
			return fmt.Errorf("machine %q: Kubernetes node not ready after %s (containerd and image import): %w; its init log ends:\n%s",
				m.Name, nodeReadyTimeout, ctx.Err(), strings.TrimSpace(tail.String()))
		case <-time.After(500 * time.Millisecond):
		}
	}
}

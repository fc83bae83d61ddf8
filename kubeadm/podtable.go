package kubeadm

import (
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
)

// WritePods writes one line per pod report: "✓" for a Ready pod, "✗" for
// one that is not, then its node, pod ("-" when none was scheduled),
// address and phase.
func WritePods(w io.Writer, reports []PodReport) error {
	var b strings.Builder
	for _, r := range reports {
		mark, pod := "✓", r.Pod
		if !r.Ready {
			mark = "✗"
		}
		if pod == "" {
			pod = "-"
		}
		fmt.Fprintf(&b, "%s %-12s %-30s %-15s %s\n", mark, r.Node, pod, r.PodIP, r.Phase)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

var notLabel = regexp.MustCompile(`[^a-z0-9-]+`)

// NameFromImage derives a workload name, a DNS label, from a container
// image reference: "registry.local/team/nginx:1.27" gives "nginx". An
// image with nothing usable gives "workload".
func NameFromImage(image string) string {
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

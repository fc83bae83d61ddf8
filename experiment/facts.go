package experiment

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/version"
)

// hostFacts are the versions of what runs the testbed on this machine:
// planetstage (the module as built into this program), Go, the kernel and
// the Docker engine. A version that cannot be found is "(unknown)".
func hostFacts(ctx context.Context) map[string]string {
	v := version.Get()
	f := map[string]string{"planetstage": v.Planetstage, "go": v.Go, "kernel": unknown, "docker": unknown}
	if v.Revision != "" {
		f["planetstage.revision"] = v.Revision
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		f["kernel"] = strings.TrimSpace(string(b))
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").Output(); err == nil {
		f["docker"] = strings.TrimSpace(string(out))
	}
	return f
}

// clusterFacts are the versions the lab's Kubernetes node image compiles.
func clusterFacts(f map[string]string) {
	n := version.Get().NodeImage
	for k, v := range map[string]string{"kubernetes": n.Kubernetes, "etcd": n.Etcd, "containerd": n.Containerd,
		"runc": n.Runc, "coredns": n.CoreDNS, "cni": n.CNI} {
		f[k] = v
	}
}

// tunnelFacts asks the first router which version of its tunnel daemon
// it runs: OpenVPN's, or for WireGuard the tools' (and wireguard-go's,
// where the kernel has no module).
func tunnelFacts(ctx context.Context, t *topology.Topology, dial func(context.Context, string) (remote.Runner, error), f map[string]string) {
	if t.VPN == nil || len(t.Sites) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r, err := dial(ctx, t.Sites[0].Router.Name)
	if err != nil {
		return
	}
	first := func(cmd string) string {
		out, err := remote.Output(ctx, r, cmd)
		if line, _, _ := strings.Cut(strings.TrimSpace(out), "\n"); err == nil && line != "" {
			return line
		}
		return unknown
	}
	if t.VPN.Type == topology.VPNTypeWireGuard {
		f["wireguard-tools"] = first("wg --version")
		f["wireguard-go"] = first("command -v wireguard-go >/dev/null && wireguard-go --version")
		return
	}
	f["openvpn"] = first("openvpn --version")
}

const unknown = version.Unknown

package kubeadm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/planetstage/planetstage/remote"
)

// Ports a node's Kubernetes components listen on; they must be free before
// init or join.
var (
	controlPlanePorts = []int{2379, 2380, 10250, 10257, 10259}
	workerPorts       = []int{10250}
)

// preflightScript prints one "CHECK<TAB>problem" line per problem and always
// exits 0, so every problem is collected in one pass. It reads /proc instead
// of calling ss or sysctl, which minimal images may lack.
const preflightScript = `
p() { printf '%s\t%s\n' "$1" "$2"; }
if [ -r /proc/swaps ] && [ "$(awk 'NR>1' /proc/swaps | wc -l)" -gt 0 ]; then p Swap "swap is on (swapoff -a, and remove it from /etc/fstab)"; fi
grep -qw overlay /proc/filesystems 2>/dev/null || p KernelModules "kernel module overlay is not loaded (modprobe overlay)"
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || p KernelModules "kernel module br_netfilter is not loaded (modprobe br_netfilter)"
[ "$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null)" = 1 ] || p Sysctl "net.ipv4.ip_forward is not 1"
if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] && [ "$(cat /proc/sys/net/bridge/bridge-nf-call-iptables)" != 1 ]; then p Sysctl "net.bridge.bridge-nf-call-iptables is not 1"; fi
[ -S "$CRI" ] || p CRI "container runtime socket $CRI is missing (is containerd running?)"
for b in kubeadm kubelet $BINS; do command -v "$b" >/dev/null 2>&1 || p Binaries "$b is not installed"; done
listening=$(awk 'NR>1 && $4=="0A" {split($2,a,":"); print a[2]}' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
for port in $PORTS; do
  hex=$(printf '%04X' "$port")
  echo "$listening" | grep -qx "$hex" && p "Port-$port" "port $port is in use"
done
exit 0
`

// Preflight checks a node before init or join: swap off, kernel modules,
// sysctls, the container runtime socket, the binaries, free ports. It
// returns every problem at once, each naming the node; checks named in
// Cluster.IgnorePreflightErrors (or "all") are skipped, with kubeadm's names
// where kubeadm has one ("Swap", "Port-10250").
func (b *Bootstrapper) Preflight(ctx context.Context, r remote.Runner, controlPlane bool) error {
	ports, bins := workerPorts, ""
	if controlPlane {
		ports, bins = append([]int{int(b.Cluster.Endpoint.Port())}, controlPlanePorts...), "kubectl"
	}
	var portList []string
	for _, p := range ports {
		portList = append(portList, strconv.Itoa(p))
	}
	env := fmt.Sprintf("CRI=%s PORTS=%s BINS=%s; ",
		remote.ShellQuote(strings.TrimPrefix(b.Cluster.criSocket(), "unix://")),
		remote.ShellQuote(strings.Join(portList, " ")), remote.ShellQuote(bins))
	out, err := b.run(ctx, r, env+preflightScript, nil)
	if err != nil {
		return fmt.Errorf("preflight: %w", err)
	}
	ignore := b.Cluster.IgnorePreflightErrors
	var errs []error
	for line := range strings.Lines(out) {
		check, problem, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if !ok || slices.Contains(ignore, "all") || slices.ContainsFunc(ignore, func(s string) bool { return strings.EqualFold(s, check) }) {
			continue
		}
		errs = append(errs, fmt.Errorf("%s: %s", check, problem))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s: preflight found %d problem(s):\n%w", r.Host(), len(errs), errors.Join(errs...))
	}
	return nil
}

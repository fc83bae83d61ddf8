package k8snode

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClusterInDocker builds (or reuses) the node image and brings up a real
// kubeadm cluster in Docker: HAProxy + control plane(s) + a worker, all
// Ready, CoreDNS running, every kubectl call going through the LB.
// PLANETSTAGE_K8S_CONTROL_PLANES=2 (or 3) adds control-plane joins.
func TestClusterInDocker(t *testing.T) {
	if os.Getenv("PLANETSTAGE_K8S") != "1" {
		t.Skip("set PLANETSTAGE_K8S=1 to build the offline node image (cold: 15+ min on 2 cores) and run a kubeadm cluster in Docker")
	}
	for _, tool := range []string{"docker", "mmdebstrap", "go"} {
		if _, err := lookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))

	res, err := Build(ctx, Options{Log: log})
	require.NoError(t, err)
	t.Logf("build: %.1fs, built stages %v, image %s", res.Elapsed.Seconds(), res.Built, res.Image)

	cps := 1
	if n, err := strconv.Atoi(os.Getenv("PLANETSTAGE_K8S_CONTROL_PLANES")); err == nil && n > 0 {
		cps = n
	}
	c := &testCluster{t: t, image: res.Image, nodes: []testNode{{name: "lb", ip: lbIP, role: "lb"}}}
	for i := 1; i <= cps; i++ {
		c.nodes = append(c.nodes, testNode{name: fmt.Sprintf("cp%d", i), ip: fmt.Sprintf("172.29.0.%d", 10+i), role: "control-plane"})
	}
	c.nodes = append(c.nodes, testNode{name: "w1", ip: "172.29.0.21", role: "worker"})

	hostSysctls := readHostSysctls(t)
	start := time.Now()
	c.start(ctx)
	t.Logf("containers up, images imported: %.1fs", time.Since(start).Seconds())

	// Load balancer first: HAProxy through the systemctl stand-in.
	c.writeFile(ctx, "lb", "/etc/haproxy/haproxy.cfg", []byte(haproxyConfig(c.nodes)))
	c.exec(ctx, "lb", "systemctl restart haproxy && systemctl is-active haproxy")

	token := strings.TrimSpace(c.exec(ctx, "cp1", "kubeadm token generate"))
	certKey := strings.TrimSpace(c.exec(ctx, "cp1", "kubeadm certs certificate-key"))
	c.secrets = append(c.secrets, token, certKey)
	// Checked without printing it: the token is a secret.
	require.True(t, tokenFormat.MatchString(token), "kubeadm token generate returned something else than a token")

	t0 := time.Now()
	c.writeFile(ctx, "cp1", "/root/kubeadm.yaml", []byte(initConfig(c.nodes[1], token, certKey)))
	c.exec(ctx, "cp1", "kubeadm init --config /root/kubeadm.yaml --upload-certs "+ignorePreflight)
	t.Logf("kubeadm init: %.1fs", time.Since(t0).Seconds())
	caHash := c.caCertHash(ctx, "cp1")

	for _, n := range c.nodes[2:] {
		if n.role != "control-plane" {
			continue
		}
		t0 := time.Now()
		c.writeFile(ctx, n.name, "/root/kubeadm.yaml", []byte(joinConfig(n, token, caHash, certKey)))
		c.exec(ctx, n.name, "kubeadm join --config /root/kubeadm.yaml "+ignorePreflight)
		t.Logf("kubeadm join %s (control plane): %.1fs", n.name, time.Since(t0).Seconds())
	}
	w := c.nodes[len(c.nodes)-1]
	t0 = time.Now()
	c.writeFile(ctx, w.name, "/root/kubeadm.yaml", []byte(joinConfig(w, token, caHash, "")))
	c.exec(ctx, w.name, "kubeadm join --config /root/kubeadm.yaml "+ignorePreflight)
	t.Logf("kubeadm join %s (worker): %.1fs", w.name, time.Since(t0).Seconds())

	// CNI: bridge + host-local on each node's podCIDR, routes to the others.
	k8s := c.nodes[1:]
	cidrs := map[string]string{}
	for _, n := range k8s {
		cidrs[n.name] = c.podCIDR(ctx, "cp1", n.name)
	}
	for _, n := range k8s {
		c.writeFile(ctx, n.name, "/etc/cni/net.d/10-k8snode.conflist", []byte(cniConfig(cidrs[n.name])))
		for _, o := range k8s {
			if o.name != n.name {
				c.exec(ctx, n.name, fmt.Sprintf("ip route replace %s via %s", cidrs[o.name], o.ip))
			}
		}
	}

	for _, n := range k8s {
		c.waitFor(ctx, "cp1", kubectl("get node "+n.name+` -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True`),
			5*time.Minute, "node "+n.name+" Ready")
	}
	c.waitFor(ctx, "cp1", kubectl("-n kube-system wait --for=condition=Ready pod -l k8s-app=kube-dns --timeout=10s"), 5*time.Minute, "CoreDNS Ready")
	t.Logf("cluster Ready (%d control planes + 1 worker): %.1fs after the containers started", cps, time.Since(start).Seconds())

	nodes := c.exec(ctx, "cp1", kubectl("get nodes -o wide"))
	t.Logf("kubectl get nodes -o wide (through the LB):\n%s", nodes)
	for _, n := range k8s {
		assert.Regexp(t, `(?m)^`+n.name+`\s+Ready\s`, nodes)
	}
	server := c.exec(ctx, "cp1", kubectl("config view -o jsonpath={.clusters[0].cluster.server}"))
	assert.Equal(t, "https://"+lbIP+":6443", strings.TrimSpace(server), "admin.conf goes through the LB")
	version := c.exec(ctx, "cp1", kubectl("get node cp1 -o jsonpath={.status.nodeInfo.kubeletVersion}"))
	assert.Equal(t, DefaultVersions.Kubernetes, strings.TrimSpace(version), "kubelet reports the ldflags version")
	t.Logf("kube-system pods:\n%s", c.exec(ctx, "cp1", kubectl("-n kube-system get pods -o wide")))

	assert.Equal(t, hostSysctls, readHostSysctls(t), "the kubelets must not retune the shared host kernel")

	// Resources at idle.
	time.Sleep(30 * time.Second)
	var names []string
	for _, n := range c.nodes {
		names = append(names, "ps-k8s-"+n.name)
	}
	mem, cpu, err := memoryMB(ctx, names)
	require.NoError(t, err)
	for _, n := range names {
		t.Logf("idle %s: memory %.0f MiB (docker stats, incl. page cache), CPU %.1f%%", n, mem[n], cpu[n])
	}
	for _, n := range k8s {
		rss := c.exec(ctx, n.name, "ps -eo rss= | awk '{s+=$1} END {print int(s/1024)}'")
		t.Logf("RSS sum of processes in %s: %s MiB", n.name, strings.TrimSpace(rss))
	}
}

// The preflight checks this environment fails by design: cgroup v1 on the
// host (SystemVerification) and swap accounting on the shared kernel.
var tokenFormat = regexp.MustCompile(`^[a-z0-9]{6}\.[a-z0-9]{16}$`)

const ignorePreflight = "--ignore-preflight-errors=SystemVerification,Swap"

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// readHostSysctls reads the host-wide settings the kubelet wants changed.
func readHostSysctls(t *testing.T) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, k := range []string{"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops"} {
		data, err := os.ReadFile("/proc/sys/" + k)
		require.NoError(t, err)
		got[k] = strings.TrimSpace(string(data))
	}
	return got
}

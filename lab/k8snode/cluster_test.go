package k8snode

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The end-to-end cluster lives on its own Docker network; every object it
// creates carries testLabel so a re-run (or a human) can clean up.
const (
	testLabel   = "io.planetstage.test=k8s"
	testNetwork = "ps-k8snode-test"
	testSubnet  = "172.29.0.0/24"
	lbIP        = "172.29.0.10"
	podSubnet   = "10.244.0.0/16"
)

type testNode struct {
	name, ip string
	role     string // lb, control-plane, worker
}

// testCluster drives node containers with `docker exec`. Secrets (token,
// certificate key) are redacted from everything it reports.
type testCluster struct {
	t       *testing.T
	image   string
	nodes   []testNode
	secrets []string
}

func docker(ctx context.Context, stdin []byte, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (c *testCluster) redact(s string) string {
	for _, sec := range c.secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "<redacted>")
		}
	}
	return s
}

// exec runs a shell command in a node and fails the test on error.
func (c *testCluster) exec(ctx context.Context, node, script string) string {
	c.t.Helper()
	out, err := c.tryExec(ctx, node, script, nil)
	require.NoError(c.t, err, "%s: %s\n%s", node, c.redact(script), tail(c.redact(out), 3000))
	return out
}

func (c *testCluster) tryExec(ctx context.Context, node, script string, stdin []byte) (string, error) {
	args := []string{"exec"}
	if stdin != nil {
		args = append(args, "-i")
	}
	return docker(ctx, stdin, append(args, "ps-k8s-"+node, "sh", "-c", script)...)
}

// writeFile writes a file (mode 0600: kubeadm configs hold the token).
func (c *testCluster) writeFile(ctx context.Context, node, path string, data []byte) {
	c.t.Helper()
	out, err := c.tryExec(ctx, node, fmt.Sprintf("umask 077; mkdir -p $(dirname %s) && cat > %s.tmp && mv %s.tmp %s", path, path, path, path), data)
	require.NoError(c.t, err, "%s: write %s: %s", node, path, out)
}

// cleanup removes every container and network carrying testLabel.
func cleanupDocker(ctx context.Context) error {
	out, err := docker(ctx, nil, "ps", "-aq", "--filter", "label="+testLabel)
	if err != nil {
		return fmt.Errorf("docker ps: %w: %s", err, out)
	}
	if ids := strings.Fields(out); len(ids) > 0 {
		if out, err := docker(ctx, nil, append([]string{"rm", "-f", "-v"}, ids...)...); err != nil {
			return fmt.Errorf("docker rm: %w: %s", err, out)
		}
	}
	out, err = docker(ctx, nil, "network", "ls", "-q", "--filter", "label="+testLabel)
	if err != nil {
		return fmt.Errorf("docker network ls: %w: %s", err, out)
	}
	for _, id := range strings.Fields(out) {
		if out, err := docker(ctx, nil, "network", "rm", id); err != nil {
			return fmt.Errorf("docker network rm: %w: %s", err, out)
		}
	}
	return nil
}

func (c *testCluster) start(ctx context.Context) {
	c.t.Helper()
	require.NoError(c.t, cleanupDocker(ctx))
	c.t.Cleanup(func() {
		if os.Getenv("PLANETSTAGE_K8S_KEEP") == "1" {
			c.t.Log("PLANETSTAGE_K8S_KEEP=1: leaving the containers running (label " + testLabel + ")")
			return
		}
		if err := cleanupDocker(context.Background()); err != nil {
			c.t.Errorf("cleanup: %v", err)
		}
	})
	out, err := docker(ctx, nil, "network", "create", "--subnet", testSubnet, "--label", testLabel, testNetwork)
	require.NoError(c.t, err, out)
	for _, n := range c.nodes {
		args := append([]string{"run", "-d", "--name", "ps-k8s-" + n.name, "--hostname", n.name,
			"--network", testNetwork, "--ip", n.ip, "--label", testLabel}, RunFlags()...)
		if n.role == "lb" {
			args = append(args, "-e", "K8SNODE_ROLE=lb")
		}
		out, err := docker(ctx, nil, append(args, c.image)...)
		require.NoError(c.t, err, "start %s: %s", n.name, out)
	}
	for _, n := range c.nodes {
		c.waitFor(ctx, n.name, "test -e "+ReadyFile, 5*time.Minute, "node init (containerd, image import)")
	}
}

// waitFor polls a shell condition in a node until it succeeds.
func (c *testCluster) waitFor(ctx context.Context, node, cond string, limit time.Duration, what string) {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	var out string
	for time.Now().Before(deadline) {
		var err error
		if out, err = c.tryExec(ctx, node, cond, nil); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			c.t.Fatalf("%s: %s: %v", node, what, ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
	logs, _ := c.tryExec(ctx, node, "tail -n 30 /var/log/k8snode-init.log /var/log/kubelet.log /var/log/containerd.log 2>/dev/null", nil)
	c.t.Fatalf("%s: %s: not after %s: %s\n%s", node, what, limit, tail(c.redact(out), 500), tail(c.redact(logs), 4000))
}

// caCertHash computes kubeadm's discovery hash of the cluster CA.
func (c *testCluster) caCertHash(ctx context.Context, node string) string {
	c.t.Helper()
	pemData := c.exec(ctx, node, "cat /etc/kubernetes/pki/ca.crt")
	block, _ := pem.Decode([]byte(pemData))
	require.NotNil(c.t, block, "ca.crt is not PEM")
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(c.t, err)
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// podCIDR returns the node's spec.podCIDR (allocated by the controller manager).
func (c *testCluster) podCIDR(ctx context.Context, via, node string) string {
	c.t.Helper()
	c.waitFor(ctx, via, kubectl("get node "+node+" -o jsonpath={.spec.podCIDR} | grep -q /"), 3*time.Minute, "podCIDR of "+node)
	return strings.TrimSpace(c.exec(ctx, via, kubectl("get node "+node+" -o jsonpath={.spec.podCIDR}")))
}

func kubectl(args string) string {
	return "kubectl --kubeconfig /etc/kubernetes/admin.conf " + args
}

// memoryMB returns `docker stats` memory use per container in MiB.
func memoryMB(ctx context.Context, names []string) (map[string]float64, map[string]float64, error) {
	out, err := docker(ctx, nil, append([]string{"stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}} {{.CPUPerc}}"}, names...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("docker stats: %w: %s", err, out)
	}
	mem, cpu := map[string]float64{}, map[string]float64{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 {
			continue
		}
		mem[f[0]] = parseMiB(f[1])
		cpu[f[0]], _ = strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)
	}
	return mem, cpu, nil
}

func parseMiB(s string) float64 {
	for _, u := range []struct {
		suffix string
		mul    float64
	}{{"GiB", 1024}, {"MiB", 1}, {"KiB", 1.0 / 1024}, {"B", 1.0 / (1024 * 1024)}} {
		if strings.HasSuffix(s, u.suffix) {
			v, _ := strconv.ParseFloat(strings.TrimSuffix(s, u.suffix), 64)
			return v * u.mul
		}
	}
	return 0
}

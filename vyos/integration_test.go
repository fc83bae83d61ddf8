package vyos_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/vyos"
)

// dockerRunner runs commands in a container as the vyos user, standing in
// for SSH to a VyOS router.
type dockerRunner struct{ container string }

func (d dockerRunner) Host() string { return d.container }
func (d dockerRunner) Run(ctx context.Context, cmd remote.Cmd) error {
	cmd.Command = "docker exec -i -u vyos " + d.container + " /bin/sh -c " + remote.ShellQuote(cmd.Command)
	return (&remote.Local{Name: d.container}).Run(ctx, cmd)
}
func (d dockerRunner) WriteFile(ctx context.Context, path string, data []byte, mode fs.FileMode) error {
	return d.Run(ctx, remote.Cmd{Command: fmt.Sprintf("cat > %[1]s.tmp && chmod %[2]o %[1]s.tmp && mv %[1]s.tmp %[1]s", remote.ShellQuote(path), mode), Stdin: bytes.NewReader(data)})
}
func (d dockerRunner) ReadFile(ctx context.Context, path string) ([]byte, error) {
	out, err := remote.Output(ctx, d, "cat "+remote.ShellQuote(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, fs.ErrNotExist)
	}
	return []byte(out), nil
}

// TestRealVyOS runs two VyOS routers from a locally built image (VyOS's
// docs/installation/virtual/docker.rst) and applies planetstage's config to
// them. It runs only when PLANETSTAGE_VYOS_IMAGE names such an image, and
// PLANETSTAGE_VYOS_VERSION its release line (default 1.4).
func TestRealVyOS(t *testing.T) {
	image := os.Getenv("PLANETSTAGE_VYOS_IMAGE")
	if image == "" {
		t.Skip("PLANETSTAGE_VYOS_IMAGE is not set: no VyOS image exists here (build one from a VyOS ISO as VyOS's docker docs describe); " +
			"apply and read-back were tested against the VyOS-like SSH server in apply_test.go instead")
	}
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("needs docker")
	}
	d, err := vyos.ParseVersion(envOr("PLANETSTAGE_VYOS_VERSION", "1.4"))
	require.NoError(t, err)
	ctx := t.Context()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	net := "psr-" + hex.EncodeToString(b)
	sh := func(args ...string) string {
		out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
		require.NoError(t, err, "docker %v: %s", args, out)
		return string(out)
	}
	sh("network", "create", "--ipv6", "--subnet", "10.4.0.0/24", "--subnet", "fd00:4::/64", net)
	t.Cleanup(func() { _ = exec.Command("docker", "network", "rm", net).Run() })

	sites := thesisSites(2)
	m, k := model(t, tunnel.Spec{Sites: sites, Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: 1194}, openvpn.Options{})
	var runners []dockerRunner
	for _, s := range sites {
		name := net + "-" + s.Router
		sh("run", "-d", "--name", name, "--privileged", "-v", "/lib/modules:/lib/modules:ro",
			"--network", net, "--ip", s.WAN.String(), image, "/sbin/init")
		t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", name).Run() })
		r := dockerRunner{container: name}
		require.Eventually(t, func() bool {
			_, err := vyos.Running(ctx, r)
			return err == nil
		}, 3*time.Minute, 2*time.Second, "VyOS in %s did not boot", name)
		runners = append(runners, r)
	}
	for i, s := range sites {
		cfg, err := vyos.Build(vyos.Router{Model: m, Keys: k, Site: s.Name, Dialect: d, Underlay: netip.MustParsePrefix("10.4.0.0/24")})
		require.NoError(t, err)
		require.NoError(t, vyos.Apply(ctx, runners[i], cfg, vyos.Options{}))
		drift, err := vyos.Inspect(ctx, runners[i], cfg)
		require.NoError(t, err)
		assert.True(t, drift.InSync(), "re-read after apply: %v", drift.Reasons())
	}
	require.Eventually(t, func() bool {
		return exec.Command("docker", "exec", runners[0].container, "ping", "-c1", "-W1", m.Tunnels[0].Ends[1].Address.String()).Run() == nil
	}, time.Minute, time.Second, "tunnel between the VyOS routers did not come up")
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

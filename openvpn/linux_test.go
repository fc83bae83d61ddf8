package openvpn_test

import (
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/tunnel"
)

// recorder is a fake remote.Runner: it records commands, answers reads from
// an empty file system, and fails every write so a test can prove that
// Inspect changes nothing.
type recorder struct {
	mu     sync.Mutex
	cmds   []string
	writes int
}

func (r *recorder) Run(_ context.Context, cmd remote.Cmd) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cmds = append(r.cmds, cmd.Command)
	if cmd.Stdout != nil {
		// Inspect's one read of the router's state (a remote.Batch):
		// no file, no daemon, no route, forwarding off.
		out, _ := remote.AnswerBatch(cmd.Command, map[string]string{"forward": "0\n"})
		_, _ = cmd.Stdout.Write([]byte(out))
	}
	return nil
}
func (r *recorder) WriteFile(context.Context, string, []byte, fs.FileMode) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes++
	return errors.New("recorder: write refused")
}
func (r *recorder) ReadFile(context.Context, string) ([]byte, error) { return nil, fs.ErrNotExist }
func (r *recorder) Host() string                                     { return "recorder" }

func TestLinuxInspectChangesNothing(t *testing.T) {
	t.Parallel()
	m := newModel(t, tunnel.Spec{Sites: sites(3), Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/24"), Port: openvpn.DefaultPort}, openvpn.Options{})
	keys, err := openvpn.LoadKeys(secret.NewDir(t.TempDir()), m)
	require.NoError(t, err)
	rec := &recorder{}
	d, err := (&openvpn.Linux{Model: m, Keys: keys, Site: "site-a"}).Inspect(t.Context(), rec)
	require.NoError(t, err)
	assert.False(t, d.Installed)
	assert.Contains(t, d.Reasons, "start openvpn vtun0 to vyos02")
	assert.Contains(t, d.Reasons, "enable IPv4 forwarding")
	assert.Contains(t, d.Reasons, "route 192.168.30.0/24 via 10.255.0.6 dev vtun1 (to site-c)")
	assert.Zero(t, rec.writes)
	assert.Len(t, rec.cmds, 1, "the router's state is read in one round trip, however many tunnels it has")
	for _, c := range rec.cmds {
		for _, mutating := range []string{"replace", "--daemon", "sysctl", "kill", "tuntap", "flush"} {
			assert.NotContains(t, c, mutating)
		}
	}
	for _, r := range d.Reasons {
		assert.NotContains(t, r, "PRIVATE KEY")
	}
}

func TestConfigRoles(t *testing.T) {
	t.Parallel()
	m := newModel(t, tunnel.Spec{Sites: sites(2), Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/24"), Port: openvpn.DefaultPort}, openvpn.Options{})
	keys, err := openvpn.LoadKeys(secret.NewDir(t.TempDir()), m)
	require.NoError(t, err)
	a, err := openvpn.Config(m, keys, m.Tunnels[0], "site-a", "/d")
	require.NoError(t, err)
	b, err := openvpn.Config(m, keys, m.Tunnels[0], "site-b", "/d")
	require.NoError(t, err)
	// Both sides tls-client never connects (reference pitfall 1).
	assert.Contains(t, a, "\ntls-server\n")
	assert.Contains(t, b, "\ntls-client\n")
	assert.Contains(t, a, keys.Certs["vyos02"].Fingerprint, "site-a pins site-b's certificate")
	assert.Contains(t, b, keys.Certs["vyos01"].Fingerprint)
	assert.NotContains(t, a+b, "PRIVATE KEY", "configs refer to key files; they hold no secret")
	_, err = openvpn.Config(m, keys, m.Tunnels[0], "site-z", "/d")
	assert.ErrorContains(t, err, `no end at site "site-z"`)
}

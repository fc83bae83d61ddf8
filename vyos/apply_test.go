package vyos

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/tunnel"
)

// dialFake starts f's SSH server and returns planetstage's real SSH
// transport to it, verifying its host key against a known_hosts file.
func dialFake(t *testing.T, f *fakeVyOS) remote.Runner {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	signer, err := ssh.NewSignerFromKey(priv)
	require.NoError(t, err)
	f.clientKey = signer.PublicKey()
	addr, hostKey := f.serve(t)
	knownHosts := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, os.WriteFile(knownHosts, []byte(knownhosts.Line([]string{addr}, hostKey)+"\n"), 0o600))
	r, err := remote.NewSSH(remote.SSHConfig{Name: "vyos01", Addr: addr, User: "vyos", Signers: []ssh.Signer{signer}, KnownHostsFile: knownHosts})
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

// thesisConfig builds vyos01's configuration for the thesis mesh.
func thesisConfig(t *testing.T, d Dialect, auth openvpn.Auth) *Config {
	t.Helper()
	var sites []tunnel.Site
	for i := range 3 {
		lan := netip.AddrFrom4([4]byte{192, 168, byte(10 * (i + 1)), 1})
		sites = append(sites, tunnel.Site{Name: fmt.Sprintf("site-%c", 'a'+i), Router: fmt.Sprintf("vyos%02d", i+1),
			WAN: netip.AddrFrom4([4]byte{10, 4, 0, byte(90 + i)}), LAN: lan, Prefix: netip.PrefixFrom(lan, 24).Masked()})
	}
	tm, err := tunnel.New(tunnel.Spec{Sites: sites, Mode: tunnel.Mesh, Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: 1194})
	require.NoError(t, err)
	m, err := openvpn.New(tm, openvpn.Options{Auth: auth})
	require.NoError(t, err)
	k, err := openvpn.LoadKeys(secret.NewDir(t.TempDir()), m)
	require.NoError(t, err)
	c, err := Build(Router{Model: m, Keys: k, Site: "site-a", Dialect: d, Underlay: netip.MustParsePrefix("10.4.0.0/16")})
	require.NoError(t, err)
	return c
}

func keys(cmds []Command) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, c.key())
	}
	return out
}

func TestApplyThenReapplyIsNoOp(t *testing.T) {
	t.Parallel()
	for _, d := range Dialects {
		for _, auth := range []openvpn.Auth{openvpn.TLS, openvpn.StaticKey} {
			t.Run(string(d)+"/"+string(auth), func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				f := newFakeVyOS(d)
				f.running = []string{"system host-name vyos", "service ssh port 22", "system ntp server 10.4.0.1"}
				r := dialFake(t, f)
				c := thesisConfig(t, d, auth)

				drift, err := Inspect(ctx, r, c)
				require.NoError(t, err)
				assert.False(t, drift.Installed)
				assert.Len(t, drift.Commands, len(c.Commands)-1, "all but the ssh port, which is already set")
				require.NoError(t, Apply(ctx, r, c, Options{}))

				f.mu.Lock()
				assert.ElementsMatch(t, append(keys(c.Commands), "system ntp server 10.4.0.1"), f.running, "foreign config is kept")
				assert.Equal(t, f.running, f.saved, "saved after commit")
				for _, file := range c.Files {
					got, ok := f.files[file.Path]
					require.True(t, ok, file.Path)
					assert.Equal(t, file.Data, got.data)
					assert.Equal(t, fmt.Sprintf("%04o", file.Mode()), got.mode, file.Path)
				}
				for _, s := range f.scripts {
					assert.NotContains(t, s, "commit-confirm")
				}
				f.mu.Unlock()
				if d == V12 || d == V13 {
					assert.NotEmpty(t, c.Files, "1.2/1.3 keep keys in /config/auth")
				}

				drift, err = Inspect(ctx, r, c)
				require.NoError(t, err)
				assert.True(t, drift.Installed)
				assert.True(t, drift.InSync(), "%v", drift.Reasons())
				f.mu.Lock()
				scripts := len(f.scripts)
				f.mu.Unlock()
				require.NoError(t, Apply(ctx, r, c, Options{}))
				f.mu.Lock()
				assert.Equal(t, scripts+1, len(f.scripts), "a re-apply only reads the configuration back")
				f.mu.Unlock()
			})
		}
	}
}

func TestApplySendsOnlyTheDifference(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFakeVyOS(V14)
	r := dialFake(t, f)
	c := thesisConfig(t, V14, openvpn.TLS)
	require.NoError(t, Apply(ctx, r, c, Options{}))

	// Someone edits the router: a changed port, a lost route, a stale tunnel.
	f.mu.Lock()
	for i, l := range f.running {
		if l == "interfaces openvpn vtun0 local-port 1194" {
			f.running[i] = "interfaces openvpn vtun0 local-port 2000"
		}
	}
	f.running = append(deleteLine(f.running, "protocols static route 192.168.30.0/24 interface vtun1"),
		"interfaces openvpn vtun7 mode site-to-site", "interfaces openvpn vtun7 local-port 1201")
	f.mu.Unlock()

	drift, err := Inspect(ctx, r, c)
	require.NoError(t, err)
	var got []string
	for _, cmd := range drift.Commands {
		got = append(got, cmd.String())
	}
	assert.Equal(t, []string{
		"delete interfaces openvpn vtun0 local-port 2000",
		"delete interfaces openvpn vtun7",
		"set interfaces openvpn vtun0 local-port 1194",
		"set protocols static route 192.168.30.0/24 interface vtun1",
	}, got)
	require.NoError(t, Apply(ctx, r, c, Options{}))
	f.mu.Lock()
	assert.ElementsMatch(t, keys(c.Commands), f.running)
	f.mu.Unlock()
}

func deleteLine(lines []string, line string) []string {
	var out []string
	for _, l := range lines {
		if l != line {
			out = append(out, l)
		}
	}
	return out
}

func TestApplyFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		inject func(f *fakeVyOS)
		want   string
	}{
		{"commit failed", func(f *fakeVyOS) { f.failCommit = "private key" }, "commit failed, candidate discarded"},
		{"set failed", func(f *fakeVyOS) { f.rejectSet = "vtun1 remote-port" }, "set failed, nothing committed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeVyOS(V15)
			f.running = []string{"system host-name vyos"}
			tc.inject(f)
			r := dialFake(t, f)
			c := thesisConfig(t, V15, openvpn.TLS)
			err := Apply(t.Context(), r, c, Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), `router "vyos01"`)
			for _, cmd := range c.Commands {
				if cmd.Secret {
					assert.NotContains(t, err.Error(), cmd.Path[len(cmd.Path)-1], "secrets are redacted from VyOS output")
				}
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			assert.Equal(t, []string{"system host-name vyos"}, f.running, "nothing committed")
		})
	}
}

func TestApplyWithCommitConfirm(t *testing.T) {
	t.Parallel()
	f := newFakeVyOS(V14)
	r := dialFake(t, f)
	c := thesisConfig(t, V14, openvpn.StaticKey)
	require.NoError(t, Apply(t.Context(), r, c, Options{ConfirmMinutes: 5}))
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Contains(t, strings.Join(f.scripts, "\n"), "commit-confirm 5\ny\n")
	assert.Equal(t, 1, f.confirmed, "confirmed from a second session")
	assert.False(t, f.pending)
	assert.ElementsMatch(t, keys(c.Commands), f.running)
}

func TestApplyNoChangesToCommitIsSuccess(t *testing.T) {
	t.Parallel()
	f := newFakeVyOS(V13)
	r := dialFake(t, f)
	c := thesisConfig(t, V13, openvpn.TLS)
	require.NoError(t, Apply(t.Context(), r, c, Options{}))
	// The router stores a line in a form the read-back does not show, so the
	// diff resends it and VyOS answers that nothing changed.
	f.mu.Lock()
	f.hide = "host-name"
	f.mu.Unlock()
	drift, err := Inspect(t.Context(), r, c)
	require.NoError(t, err)
	require.Len(t, drift.Commands, 1)
	require.NoError(t, Apply(t.Context(), r, c, Options{}))
}

func TestRemoveLeavesTheRouterReachable(t *testing.T) {
	t.Parallel()
	for _, d := range []Dialect{V12, V15} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			f := newFakeVyOS(d)
			r := dialFake(t, f)
			c := thesisConfig(t, d, openvpn.TLS)
			require.NoError(t, Apply(ctx, r, c, Options{}))
			reasons, err := InspectRemove(ctx, r, c)
			require.NoError(t, err)
			assert.Contains(t, reasons, "delete interfaces openvpn")
			require.NoError(t, Remove(ctx, r, c, Options{}))
			f.mu.Lock()
			assert.ElementsMatch(t, []string{
				"system host-name vyos01", "interfaces ethernet eth0 address 10.4.0.90/16",
				"interfaces ethernet eth1 address 192.168.10.1/24", "service ssh port 22",
			}, f.running, "base config stays")
			var left []string // paths only: the files hold (test) keys
			for p := range f.files {
				left = append(left, p)
			}
			assert.Empty(t, left)
			f.mu.Unlock()
			reasons, err = InspectRemove(ctx, r, c)
			require.NoError(t, err)
			assert.Empty(t, reasons)
		})
	}
}

func TestNewKeysGetNewFilesAndTheOldAreRemoved(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFakeVyOS(V12)
	r := dialFake(t, f)
	old := thesisConfig(t, V12, openvpn.TLS)
	require.NoError(t, Apply(ctx, r, old, Options{}))
	renewed := thesisConfig(t, V12, openvpn.TLS) // a fresh state: new certificates

	d, err := Inspect(ctx, r, renewed)
	require.NoError(t, err)
	assert.NotEmpty(t, d.Commands, "new file names change the commands, so VyOS restarts the tunnels")
	var oldPaths []string
	for _, file := range old.Files {
		if !strings.Contains(file.Path, "-dh-") { // the DH group does not change
			oldPaths = append(oldPaths, file.Path)
		}
	}
	assert.ElementsMatch(t, oldPaths, d.StaleFiles, "removed by Apply after the commit that stops using them")
	require.NoError(t, Apply(ctx, r, renewed, Options{}))

	f.mu.Lock()
	var have []string
	for p := range f.files {
		have = append(have, p)
	}
	f.mu.Unlock()
	var want []string
	for _, file := range renewed.Files {
		want = append(want, file.Path)
	}
	assert.ElementsMatch(t, want, have, "the replaced key files are gone")
	d, err = Inspect(ctx, r, renewed)
	require.NoError(t, err)
	assert.True(t, d.InSync(), "%v", d.Reasons())
}

func TestSetOfAMissingKeyFileFails(t *testing.T) {
	t.Parallel()
	f := newFakeVyOS(V13)
	r := dialFake(t, f)
	c := &Config{Router: "vyos01", Dialect: V13}
	err := send(t.Context(), r, c, []Command{set("interfaces", "openvpn", "vtun0", "shared-secret-key-file", "/config/auth/nope.key")}, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "set failed, nothing committed")
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Empty(t, f.running)
}

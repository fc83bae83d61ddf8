package vyosstandin_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/vyos"
)

const template = "source /opt/vyatta/etc/functions/script-template\n"

// Each version accepts its own syntax and rejects the others', with
// VyOS's messages, and a rejected set leaves the candidate unchanged.
func TestSetFollowsTheVersionsCommandTree(t *testing.T) {
	t.Parallel()
	cases := []struct {
		d      vyos.Dialect
		set    string
		wantOK bool
		msg    string
	}{
		{vyos.V12, "set interfaces openvpn vtun1 encryption aes256", true, ""},
		{vyos.V12, "set interfaces openvpn vtun1 encryption cipher aes256", false, "Set failed"},
		{vyos.V13, "set interfaces openvpn vtun1 encryption cipher aes256", true, ""},
		{vyos.V13, "set interfaces openvpn vtun1 encryption aes256", false, "Set failed"},
		{vyos.V12, "set protocols static interface-route 10.1.0.0/16 next-hop-interface vtun1", true, ""},
		{vyos.V13, "set protocols static route 10.1.0.0/16 interface vtun1", false, "Configuration path: [protocols static route 10.1.0.0/16 interface vtun1] is not valid"},
		{vyos.V14, "set protocols static route 10.1.0.0/16 interface vtun1", true, ""},
		{vyos.V14, "set protocols static interface-route 10.1.0.0/16 next-hop-interface vtun1", false, "Configuration path: [protocols static interface-route 10.1.0.0/16 next-hop-interface vtun1] is not valid"},
		{vyos.V15, "set pki openvpn shared-secret s2s version 1", true, ""},
		{vyos.V13, "set pki openvpn shared-secret s2s version 1", false, "is not valid"},
		{vyos.V14, "set traffic-policy network-emulator d network-delay 50ms", false, "is not valid"},
		{vyos.V12, "set traffic-policy network-emulator d network-delay 50ms", true, ""},
		{vyos.V15, "set interfaces openvpn vtun1 local-port 70000", false, "Value validation failed"},
		{vyos.V15, "set system login user vyos authentication plaintext-password x", false, "is not valid"},
	}
	for _, c := range cases {
		t.Run(string(c.d)+" "+c.set, func(t *testing.T) {
			t.Parallel()
			r, _ := newStandin(t, c.d)
			out, st := run(t, r, template+"configure\n"+c.set+"\ncompare\n")
			if c.wantOK {
				assert.Equal(t, 0, st, out)
				assert.NotContains(t, out, "failed")
				assert.Contains(t, strings.ReplaceAll(out, "'", ""), "+"+strings.TrimPrefix(c.set, "set "))
				return
			}
			assert.Contains(t, out, c.msg)
			assert.Contains(t, out, "Set failed")
			assert.Contains(t, out, "No changes between working and active configurations", "a rejected set changed the candidate")
		})
	}
}

// The whole of package vyos's session: Apply writes the keys and commits,
// the read-back (Running, over the same session) returns what was
// committed, the commit realised every tunnel as a daemon with VyOS's
// openvpn.conf and the routes, and a second Apply changes nothing.
func TestApplyRealisesAndReadsBack(t *testing.T) {
	t.Parallel()
	for _, d := range vyos.Dialects {
		for _, auth := range []openvpn.Auth{openvpn.TLS, openvpn.StaticKey} {
			t.Run(string(d)+" "+string(auth), func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				r, sys := newStandin(t, d)
				c := configs(t, d, auth)[0]
				runner := standinRunner{r: r}
				require.NoError(t, vyos.Apply(ctx, runner, c, vyos.Options{}))

				running, err := vyos.Running(ctx, runner)
				require.NoError(t, err)
				var got, want []string
				for _, cmd := range running {
					got = append(got, strings.Join(cmd.Path, " "))
				}
				for _, cmd := range c.Commands {
					want = append(want, strings.Join(cmd.Path, " "))
				}
				assert.Equal(t, sorted(want), sorted(got), "read-back is what was committed")

				assert.Equal(t, []string{"openvpn vtun0", "openvpn vtun1"}, sorted(sys.starts), "one daemon per tunnel")
				conf, err := os.ReadFile(filepath.Join(r.Root, "run/openvpn/vtun0.conf"))
				require.NoError(t, err)
				wantConf, _, err := vyos.OpenVPNConf(c, "vtun0", "/run/openvpn")
				require.NoError(t, err)
				assert.Equal(t, wantConf, string(conf), "the conf VyOS would render")
				for _, line := range strings.Split(wantConf, "\n") {
					if f, ok := strings.CutPrefix(line, "secret "); ok {
						fi, err := os.Stat(filepath.Join(r.Root, f))
						require.NoError(t, err)
						assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
					}
				}
				assert.Contains(t, sys.runs, "ip route replace 192.168.20.0/24 dev vtun0")
				assert.Contains(t, sys.runs, "ip route replace 192.168.30.0/24 dev vtun1")
				assert.Contains(t, sys.runs, "ip addr replace 10.4.0.90/16 dev eth0")

				sys.reset()
				d2, err := vyos.Inspect(ctx, runner, c)
				require.NoError(t, err)
				assert.True(t, d2.InSync(), "second apply would change: %v", d2.Reasons())
				require.NoError(t, vyos.Apply(ctx, runner, c, vyos.Options{}))
				assert.Empty(t, sys.starts, "an unchanged configuration restarts nothing")
				assert.Empty(t, sys.stops)
			})
		}
	}
}

// A re-commit converges: a changed tunnel is restarted, a deleted one
// stopped with its route removed, the others left running.
func TestRecommitConverges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, sys := newStandin(t, vyos.V14)
	runner := standinRunner{r: r}
	c := configs(t, vyos.V14, openvpn.TLS)[0]
	require.NoError(t, vyos.Apply(ctx, runner, c, vyos.Options{}))
	sys.reset()

	out, st := run(t, r, template+"configure\nset interfaces openvpn vtun0 keep-alive interval 20\ndelete interfaces openvpn vtun1\ndelete protocols static route 192.168.30.0/24\ncommit\nsave\nexit\n")
	require.Equal(t, 0, st, out)
	assert.Equal(t, []string{"openvpn vtun0", "openvpn vtun1"}, sorted(sys.stops))
	assert.Equal(t, []string{"openvpn vtun0"}, sys.starts, "only the changed tunnel restarts")
	assert.Contains(t, sys.runs, "ip route del 192.168.30.0/24 dev vtun1")
	conf, err := os.ReadFile(filepath.Join(r.Root, "run/openvpn/vtun0.conf"))
	require.NoError(t, err)
	assert.Contains(t, string(conf), "ping 20\n")

	saved, err := os.ReadFile(filepath.Join(r.Root, "config/config.boot"))
	require.NoError(t, err)
	assert.Contains(t, string(saved), "set interfaces openvpn vtun0 keep-alive interval '20'")
	assert.NotContains(t, string(saved), "vtun1")
	fi, err := os.Stat(filepath.Join(r.Root, "config/config.boot"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "config.boot holds keys")
}

// The messages package vyos acts on, and the statuses it sees.
func TestSessionMessages(t *testing.T) {
	t.Parallel()
	r, _ := newStandin(t, vyos.V13)
	out, st := run(t, r, template+"configure\ncommit\n")
	assert.Equal(t, 1, st)
	assert.Contains(t, out, "No configuration changes to commit")

	out, st = run(t, r, template+"configure\ndelete interfaces openvpn vtun9\n")
	assert.Equal(t, 1, st)
	assert.Contains(t, out, "Nothing to delete")
	assert.Contains(t, out, "Delete failed")

	// A key file that is not there is refused at set time.
	out, st = run(t, r, template+"configure\nset interfaces openvpn vtun1 shared-secret-key-file /config/auth/none.key\n")
	assert.Equal(t, 1, st)
	assert.Contains(t, out, "Set failed")

	// Commit checks what VyOS's commit checks: a tunnel without a mode.
	out, st = run(t, r, template+"configure\nset interfaces openvpn vtun1 local-port 1194\ncommit\nexit\n")
	assert.Contains(t, out, "Commit failed")
	assert.Contains(t, out, "Cannot exit: configuration modified", "a failed commit keeps the candidate")
	assert.Equal(t, 1, st)
	out, _ = run(t, r, template+"run show configuration commands\n")
	assert.NotContains(t, out, "vtun1", "nothing of a failed commit is active")

	// package vyos's guard: a failed set stops the script before commit.
	cmds := []vyos.Command{{Path: []string{"interfaces", "openvpn", "vtun1", "bogus", "x"}}}
	out, st = run(t, r, vyos.Script(cmds, 0))
	assert.Equal(t, 1, st)
	assert.Contains(t, out, "Set failed")
	assert.Contains(t, out, "a set or delete failed; discarding")
	assert.NotContains(t, out, "end of script")

	// Without the script template, VyOS's commands are not there.
	out, st = run(t, r, "configure\n")
	assert.Equal(t, 127, st)
	assert.Contains(t, out, "command not found")

	out, st = run(t, r, "run show version\n")
	assert.Equal(t, 0, st)
	assert.Contains(t, out, "VyOS 1.3 (stand-in)")
	assert.Contains(t, out, "not VyOS")
}

// A commit whose realisation fails fails, and the previous configuration
// stays active.
func TestCommitFailsWhenRealisingFails(t *testing.T) {
	t.Parallel()
	r, sys := newStandin(t, vyos.V12)
	sys.failRun = "10.9.9.1/24"
	out, st := run(t, r, template+"configure\nset interfaces ethernet eth1 address 10.9.9.1/24\ncommit\nexit discard\n")
	assert.Contains(t, out, "Commit failed")
	assert.Contains(t, out, "RTNETLINK answers")
	assert.Equal(t, 0, st, "exit discard ends the session")
	out, _ = run(t, r, template+"run show configuration commands\n")
	assert.Empty(t, strings.TrimSpace(out))
}

// commit-confirm asks, reads the answer from the script, and arms the
// rollback; confirm disarms it.
func TestCommitConfirm(t *testing.T) {
	t.Parallel()
	r, sys := newStandin(t, vyos.V15)
	cmds := []vyos.Command{{Path: []string{"interfaces", "ethernet", "eth1", "address", "10.9.9.1/24"}}}
	out, st := run(t, r, vyos.Script(cmds, 2))
	assert.Equal(t, 0, st, out)
	assert.Contains(t, out, "Proceed ? [Y/n]")
	assert.Contains(t, out, "planetstage: end of script")
	assert.Contains(t, sys.starts, "commit-confirm", "the rollback timer runs")
	_, err := os.Stat(filepath.Join(r.Root, "run/vyos-standin/commit-confirm.json"))
	require.NoError(t, err)

	out, st = run(t, r, template+"configure\nconfirm\nexit\n")
	assert.Equal(t, 0, st, out)
	_, err = os.Stat(filepath.Join(r.Root, "run/vyos-standin/commit-confirm.json"))
	assert.True(t, os.IsNotExist(err), "confirm disarms the rollback")
	out, st = run(t, r, template+"configure\nconfirm\n")
	assert.Equal(t, 1, st)
	assert.Contains(t, out, "No confirmation required")
}

// Keys never reach the stand-in's log.
func TestLogRedactsSecrets(t *testing.T) {
	t.Parallel()
	var log strings.Builder
	r, _ := newStandin(t, vyos.V14)
	r.Log = newTextLogger(&log)
	c := configs(t, vyos.V14, openvpn.StaticKey)[0]
	require.NoError(t, vyos.Apply(context.Background(), standinRunner{r: r}, c, vyos.Options{}))
	var key string
	for _, cmd := range c.Commands {
		if cmd.IsSecret() {
			key = cmd.Path[len(cmd.Path)-1]
		}
	}
	require.NotEmpty(t, key)
	assert.Contains(t, log.String(), "pki openvpn shared-secret", "the log shows the commands")
	assert.NotContains(t, log.String(), key[:32])
}

// What the stand-in cannot realise is refused or said, never silently
// committed as if it ran.
func TestUnrealisedIsSaid(t *testing.T) {
	t.Parallel()
	r, _ := newStandin(t, vyos.V12)
	out, st := run(t, r, template+"configure\nset traffic-policy network-emulator d network-delay 50ms\ncommit\n")
	assert.Equal(t, 0, st, out)
	assert.Contains(t, out, `does not realise "traffic-policy"`)
}

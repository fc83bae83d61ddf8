package vyos

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
)

// secretsOf returns c's key material: the values of its secret commands and
// the key lines of its secret files, run together (their armor and comments
// are not secret; a window that spans two lines is never found, but every
// window within a line is).
func secretsOf(c *Config) []string {
	var out []string
	for _, cmd := range c.Commands {
		if cmd.Secret {
			out = append(out, cmd.Path[len(cmd.Path)-1])
		}
	}
	for _, f := range c.Files {
		if f.Secret {
			out = append(out, strings.Join(secretLines(f.Data), ""))
		}
	}
	return out
}

// publicTextOf is what c may show: its commands and files, secrets left out.
func publicTextOf(c *Config) string { return Render(c, false) }

// assertNoSecret fails when text holds any 16 characters in a row of a
// secret, so that a key cut short (by a truncated message) is caught too.
// Windows that also occur in public are skipped: an ECDSA private key
// carries its public key, which the certificate shows.
func assertNoSecret(t *testing.T, where, text, public string, secrets []string) {
	t.Helper()
	const window = 16
	for _, s := range secrets {
		require.Greater(t, len(s), window, "a secret this short cannot be told apart from other text")
		for i := 0; i+window <= len(s); i++ {
			w := s[i : i+window]
			if at := strings.Index(text, w); at >= 0 && !strings.Contains(public, w) {
				// What precedes it says which rendering leaked; the secret
				// itself is not printed, even a test's.
				t.Errorf("%s holds a secret after %q", where, text[max(0, at-100):at])
				return
			}
		}
	}
}

// After a key rotation the plan deletes the old key and sets the new; no
// rendering of either may show a key: not the plan's reasons, not the error
// of an apply that fails with VyOS echoing the command, not the debug log.
func TestKeyRotationShowsNoKey(t *testing.T) {
	t.Parallel()
	for _, d := range Dialects {
		for _, auth := range []openvpn.Auth{openvpn.TLS, openvpn.StaticKey} {
			t.Run(string(d)+"/"+string(auth), func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				f := newFakeVyOS(d)
				r := dialFake(t, f)
				old := thesisConfig(t, d, auth)
				require.NoError(t, Apply(ctx, r, old, Options{}))
				renewed := thesisConfig(t, d, auth) // a fresh state: new keys
				secrets := append(secretsOf(old), secretsOf(renewed)...)
				require.NotEmpty(t, secrets)
				public := publicTextOf(old) + publicTextOf(renewed)

				drift, err := Inspect(ctx, r, renewed)
				require.NoError(t, err)
				require.NotEmpty(t, drift.Commands)
				assertNoSecret(t, "the plan", strings.Join(drift.Reasons(), "\n"), public, secrets)

				// VyOS rejects the delete of the old key and echoes its path.
				f.mu.Lock()
				f.rejectDelete = "key"
				f.mu.Unlock()
				var logs bytes.Buffer
				log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				err = Apply(ctx, r, renewed, Options{Log: log})
				require.Error(t, err)
				assert.Contains(t, err.Error(), "set failed, nothing committed")
				assertNoSecret(t, "the error", err.Error(), public, secrets)
				assertNoSecret(t, "the log", logs.String(), public, secrets)
				require.NotEmpty(t, logs.String(), "negative control: the log has VyOS's output")

				// Negative control: the router was sent the real keys.
				f.mu.Lock()
				sent := strings.Join(f.scripts, "\n")
				f.mu.Unlock()
				for _, cmd := range renewed.Commands { // files are written, not sent
					if cmd.Secret {
						assert.True(t, strings.Contains(sent, cmd.Path[len(cmd.Path)-1]), "the script carries the key of %s", cmd.Redacted())
					}
				}
			})
		}
	}
}

// Every form key material takes in a dialect is redacted: the certificate
// key and the static key, as pki values (1.4+) and as files (1.2/1.3), in
// VyOS output that quotes a command, a running line or a file's lines, and
// in the rendering of commands read back from a router.
func TestRedactCoversEveryDialectsKeys(t *testing.T) {
	t.Parallel()
	cases := []struct {
		dialect Dialect
		auth    openvpn.Auth
		form    string // where the key lives on the router
	}{
		{V12, openvpn.TLS, "tls key-file"},
		{V12, openvpn.StaticKey, "shared-secret-key-file"},
		{V13, openvpn.TLS, "tls key-file"},
		{V13, openvpn.StaticKey, "shared-secret-key-file"},
		{V14, openvpn.TLS, "pki certificate planetstage private key"},
		{V14, openvpn.StaticKey, "pki openvpn shared-secret planetstage-vtun0 key"},
		{V15, openvpn.TLS, "pki certificate planetstage private key"},
		{V15, openvpn.StaticKey, "pki openvpn shared-secret planetstage-vtun0 key"},
	}
	for _, tc := range cases {
		t.Run(string(tc.dialect)+"/"+string(tc.auth), func(t *testing.T) {
			t.Parallel()
			c := thesisConfig(t, tc.dialect, tc.auth)
			secrets := secretsOf(c)
			require.NotEmpty(t, secrets)
			public := publicTextOf(c)
			require.Contains(t, Render(c, true), tc.form, "the key's form in this dialect")

			// What VyOS may print: the commands as sent, as "show
			// configuration commands" prints them, and the key files.
			var out, show strings.Builder
			for _, cmd := range c.Commands {
				out.WriteString("[ " + cmd.String() + " ] is not valid\n")
				show.WriteString("set " + strings.Join(cmd.Path, " ") + "\n")
			}
			out.WriteString(show.String())
			for _, f := range c.Files {
				out.WriteString("Cannot load " + f.Path + ":\n" + string(f.Data))
			}
			require.True(t, strings.Contains(out.String(), secrets[0][:16]), "negative control: the output holds the key")
			assertNoSecret(t, "redacted output", redact(out.String(), c, nil), public, secrets)

			// Read back from the router, where nothing marks them secret.
			running := ParseCommands(show.String())
			var reasons []string
			for _, cmd := range running {
				reasons = append(reasons, cmd.Redacted(), Command{Delete: true, Path: cmd.Path}.Redacted())
			}
			assertNoSecret(t, "running commands", strings.Join(reasons, "\n"), public, secrets)
			assertNoSecret(t, "output redacted by running commands", redact(show.String(), &Config{}, running), public, secrets)
		})
	}
}

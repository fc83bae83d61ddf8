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
// the contents of its secret files.
func secretsOf(c *Config) []string {
	var out []string
	for _, cmd := range c.Commands {
		if cmd.Secret {
			out = append(out, cmd.Path[len(cmd.Path)-1])
		}
	}
	for _, f := range c.Files {
		if f.Secret {
			out = append(out, string(f.Data))
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
				for _, s := range secretsOf(renewed) {
					if !strings.Contains(s, "\n") { // files are written, not sent
						assert.Contains(t, sent, s)
					}
				}
			})
		}
	}
}

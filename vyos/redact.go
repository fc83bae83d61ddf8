package vyos

import (
	"slices"
	"strings"

	"github.com/planetstage/planetstage/secret"
)

// IsSecret reports whether c's last token is key material: c is marked
// Secret, or its path is one whose value is secret. The path decides too
// because commands also come from a router's running configuration
// (ParseCommands), unmarked, and Diff turns them into deletes: after a key
// rotation the plan deletes the old key.
func (c Command) IsSecret() bool { return c.Secret || secretPath(c.Path) }

// secretLeaves are the leaves whose value is key material or a password in
// VyOS 1.2 to 1.5 (and rolling). "key" is among them: under pki it holds a
// private key ("pki certificate|ca|key-pair N private key V") or a static
// key ("pki openvpn shared-secret N key V"), elsewhere an API key or a
// RADIUS secret; the leaves that name a key or its file ("shared-secret-key
// N", "key-file F") are not secret.
var secretLeaves = []string{
	"key", "private-key", "preshared-key", "pre-shared-secret", "secret",
	"password", "plaintext-password", "encrypted-password", "md5-key",
}

func secretPath(path []string) bool {
	return len(path) >= 2 && slices.Contains(secretLeaves, path[len(path)-2])
}

// redact replaces the secrets of c and of sent in VyOS output: the values
// of secret commands, and the contents of secret files (1.2/1.3 keep keys
// in files), whole and line by line. Callers redact before they cut the
// output short, so that no part of a key is left.
func redact(out string, c *Config, sent []Command) string {
	for _, f := range c.Files {
		if !f.Secret {
			continue
		}
		if data := strings.TrimSpace(string(f.Data)); data != "" {
			out = strings.ReplaceAll(out, data, secret.Redacted)
		}
		for _, line := range secretLines(f.Data) {
			// A short last line of base64 ("k70=") could match
			// anything; it is redacted with the whole file only.
			if len(line) >= minSecretLine {
				out = strings.ReplaceAll(out, line, secret.Redacted)
			}
		}
	}
	for _, list := range [][]Command{c.Commands, sent} {
		for _, cmd := range list {
			if cmd.IsSecret() && len(cmd.Path) > 0 && cmd.Path[len(cmd.Path)-1] != "" {
				out = strings.ReplaceAll(out, cmd.Path[len(cmd.Path)-1], secret.Redacted)
			}
		}
	}
	return out
}

// minSecretLine is the shortest line of a key file that redact replaces on
// its own.
const minSecretLine = 8

// secretLines returns the lines of a PEM or OpenVPN static key file that
// hold key material: not the armor ("-----BEGIN …") nor comments.
func secretLines(data []byte) []string {
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "-----") && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

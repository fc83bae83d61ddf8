package vyos

import (
	"fmt"
	"strings"

	"github.com/planetstage/planetstage/secret"
)

// Render returns c as a human reads it: the files the router needs (secret
// contents as <redacted> unless showSecrets) and the set commands, in the
// order they are applied.
func Render(c *Config, showSecrets bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: VyOS %s\n", c.Router, c.Dialect)
	for _, f := range c.Files {
		fmt.Fprintf(&b, "# file %s (mode %04o)\n", f.Path, f.Mode())
		data := string(f.Data)
		if f.Secret && !showSecrets {
			data = secret.Redacted + "\n"
		}
		for _, line := range strings.SplitAfter(strings.TrimSuffix(data, "\n"), "\n") {
			fmt.Fprintf(&b, "#   %s", strings.TrimSuffix(line, "\n"))
			b.WriteByte('\n')
		}
	}
	for _, cmd := range c.Commands {
		if showSecrets {
			b.WriteString(cmd.String())
		} else {
			b.WriteString(cmd.Redacted())
		}
		b.WriteByte('\n')
	}
	return b.String()
}

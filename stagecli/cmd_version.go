package stagecli

import (
	"context"
	"encoding/json"
	"io"

	"github.com/planetstage/planetstage/version"
)

// runVersion prints this binary's build, the libraries that talk to the
// outside, and what the node image runs (package version).
func (c *CLI) runVersion(_ context.Context, args []string, out, errOut io.Writer) error {
	fs := c.newFlagSet("version", errOut, &options{})
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	v := version.Get()
	if !*asJSON {
		return v.WriteText(out)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

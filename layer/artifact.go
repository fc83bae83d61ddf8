package layer

import (
	"fmt"
	"io"
	"strings"
)

// WriteArtifacts writes what the layers would write to machine (Render's
// artifacts) for a person to read: each under a "# MACHINE: TITLE (LAYER)"
// line, a blank line between them, or one line that says there is nothing.
func WriteArtifacts(w io.Writer, machine string, arts []Artifact) error {
	var b strings.Builder
	if len(arts) == 0 {
		fmt.Fprintf(&b, "# %s: no layer writes anything to this machine\n", machine)
	}
	for i, a := range arts {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "# %s: %s (%s)\n%s", a.Machine, a.Title, a.Layer, a.Content)
		if !strings.HasSuffix(a.Content, "\n") {
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

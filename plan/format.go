package plan

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/planetstage/planetstage/internal/atomicfile"
)

// writers are Writer's formats, in the order errors list them.
var writers = []struct {
	name  string
	write func(*Result, io.Writer) error
}{
	{"text", (*Result).WriteText},
	{"json", (*Result).WriteJSON},
	{"dot", (*Result).WriteDOT},
	{"mermaid", (*Result).WriteMermaid},
}

// Writer returns the method that writes a Result in format: "text"
// (WriteText), "json" (WriteJSON), "dot" (WriteDOT) or "mermaid"
// (WriteMermaid). Another format is an error that lists these, so that a
// program can refuse a bad --format before it walks anything.
func Writer(format string) (func(*Result, io.Writer) error, error) {
	var names []string
	for _, w := range writers {
		if w.name == format {
			return w.write, nil
		}
		names = append(names, w.name)
	}
	return nil, fmt.Errorf("unknown format %q; use %s", format, strings.Join(names, ", "))
}

// WriteTimingFile writes r.Timing() as JSON to the file path, atomically:
// a reader sees the previous report or the whole new one.
func (r *Result) WriteTimingFile(path string) error {
	var b bytes.Buffer
	if err := r.WriteTiming(&b); err != nil {
		return err
	}
	return atomicfile.Write(path, b.Bytes(), 0o644)
}

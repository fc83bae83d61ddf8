package remote

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Query is one read-only command of a Batch, named for its answer.
type Query struct {
	Name    string
	Command string
}

// Batch runs queries on r in one round trip, one after another in one
// shell, and returns the standard output of each by name. A query's exit
// status is not checked: write each so that what it prints says what it
// found (an empty answer for a missing file). Batch fails when r cannot
// run the script or the script stopped before its end. Inspecting a
// router command by command costs a round trip each, which at planetary
// distances is seconds per machine.
//
// Standard error is discarded. What the login shell prints before the
// first answer is ignored.
func Batch(ctx context.Context, r Runner, queries []Query) (map[string]string, error) {
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	mark := "@@planetstage-" + hex.EncodeToString(nonce) + " "
	var script strings.Builder
	// Each mark starts on a line of its own even after an answer without
	// a final newline: the newline printed before it is not the answer's.
	for _, q := range queries {
		fmt.Fprintf(&script, "printf '\\n%%s\\n' %s\n{ %s\n} 2>/dev/null\n", ShellQuote(mark+q.Name), q.Command)
	}
	fmt.Fprintf(&script, "printf '\\n%%s\\n' %s\n", ShellQuote(mark+"@end"))
	out, err := Output(ctx, r, script.String())
	if err != nil {
		return nil, err
	}
	answers := make(map[string]string, len(queries))
	name := ""
	var b strings.Builder
	for line := range strings.Lines(out) {
		if rest, ok := strings.CutPrefix(line, mark); ok {
			if name != "" {
				answers[name] = strings.TrimSuffix(b.String(), "\n")
			}
			b.Reset()
			name = strings.TrimSuffix(rest, "\n")
			if name == "@end" {
				return answers, nil
			}
			continue
		}
		if name != "" {
			b.WriteString(line)
		}
	}
	return nil, fmt.Errorf("%s: the batch of %d commands stopped before its end", r.Host(), len(queries))
}

// batchMark finds the marks of a Batch script.
var batchMark = regexp.MustCompile(`'(@@planetstage-[0-9a-f]+ )([^']+)'`)

// AnswerBatch is what a Batch script prints when each of its queries
// answers as answers says (nothing, for one it does not name), for fake
// Runners in tests. ok is false when script is not a Batch's.
func AnswerBatch(script string, answers map[string]string) (out string, ok bool) {
	var b strings.Builder
	for _, m := range batchMark.FindAllStringSubmatch(script, -1) {
		b.WriteString("\n" + m[1] + m[2] + "\n" + answers[m[2]])
		ok = ok || m[2] == "@end"
	}
	return b.String(), ok
}

// SumFilesCommand is a Batch query's command that prints the SHA-256 of
// each of paths that exists, as sha256sum does; ParseSums reads it.
func SumFilesCommand(paths []string) string {
	if len(paths) == 0 {
		return "true"
	}
	quoted := make([]string, len(paths))
	for i, p := range paths {
		quoted[i] = ShellQuote(p)
	}
	return "sha256sum -- " + strings.Join(quoted, " ")
}

// ExecutableCommand is a Batch query's command that prints, a line each,
// which of paths are executable files.
func ExecutableCommand(paths []string) string {
	var b strings.Builder
	b.WriteString("true")
	for _, p := range paths {
		q := ShellQuote(p)
		fmt.Fprintf(&b, "; [ -x %s ] && printf '%%s\\n' %s", q, q)
	}
	return b.String()
}

// ParseLines reads a Batch answer of one item a line, such as
// ExecutableCommand's, as a set.
func ParseLines(out string) map[string]bool {
	set := map[string]bool{}
	for line := range strings.Lines(out) {
		if line = strings.TrimSuffix(line, "\n"); line != "" {
			set[line] = true
		}
	}
	return set
}

// Sums are files' SHA-256 sums by path, as SumFilesCommand read them.
type Sums map[string]string

// ParseSums reads SumFilesCommand's output.
func ParseSums(out string) (Sums, error) {
	s := Sums{}
	for line := range strings.Lines(out) {
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			continue
		}
		sum, path, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != sha256.Size*2 {
			return nil, fmt.Errorf("unexpected sha256sum line %q", line)
		}
		s[path] = sum
	}
	return s, nil
}

// Holds reports whether the file at path exists and holds data.
func (s Sums) Holds(path string, data []byte) bool {
	sum, ok := s[path]
	want := sha256.Sum256(data)
	return ok && sum == hex.EncodeToString(want[:])
}

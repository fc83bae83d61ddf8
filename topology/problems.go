package topology

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a topology: where, and what.
type Problem struct {
	// Path is the field, "sites[1].hosts[0].address".
	Path string
	// Line is the line in the file, 0 for a topology built in Go.
	Line int
	// Message says what is wrong and, where it helps, what to do.
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found in a topology. It is the error Load,
// Parse and Validate return, so a caller can list them all, and errors.As
// finds it.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	noun := "problems"
	if len(ps) == 1 {
		noun = "problem"
	}
	return fmt.Sprintf("topology: %d %s:\n  %s", len(ps), noun, strings.Join(lines, "\n  "))
}

// FileError is a topology file that could not be used, with every problem
// found in it.
type FileError struct {
	File     string
	Problems Problems
}

func (e *FileError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		loc := e.File
		if p.Line > 0 {
			loc = fmt.Sprintf("%s:%d", e.File, p.Line)
		}
		lines[i] = loc + ": " + Problem{Path: p.Path, Message: p.Message}.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, so errors.As(err, &Problems{}) works on
// file errors too.
func (e *FileError) Unwrap() error { return e.Problems }

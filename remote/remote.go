package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// Runner acts on one host. Implementations are safe for concurrent use.
type Runner interface {
	// Run runs cmd.Command with /bin/sh -c on the host and waits for it.
	// A command that exits non-zero returns an *ExitError. Cancelling ctx
	// stops the command and returns ctx's error.
	Run(ctx context.Context, cmd Cmd) error
	// WriteFile writes data to path with mode, atomically: the data goes to a
	// temporary file in the same directory which is then renamed into place,
	// so a reader never sees a half-written file. Missing parent directories
	// are created. The temporary file is ".NAME.tmp-" and a suffix; one
	// that a killed write left behind is removed by the next write of the
	// same path (so two writers of one path at once may fail one write).
	WriteFile(ctx context.Context, path string, data []byte, mode fs.FileMode) error
	// ReadFile returns the contents of path. A missing file returns an error
	// that matches fs.ErrNotExist.
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// Host names the host for errors and logs ("master01", "root@10.4.0.90:22").
	Host() string
}

// Cmd is one command to run on a host.
type Cmd struct {
	// Command is a shell command line, run by /bin/sh -c.
	Command string
	// Stdin, Stdout and Stderr are optional; nil means empty input, and
	// discarded output.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// ExitError is returned by Run when the command ran and exited non-zero.
type ExitError struct {
	Host    string
	Command string
	Status  int
	// Stderr holds the tail of the command's standard error when the caller
	// used Output or CombinedOutput; it is empty otherwise.
	Stderr string
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("%s: %q exited with status %d", e.Host, firstLine(e.Command), e.Status)
	if s := strings.TrimSpace(e.Stderr); s != "" {
		msg += ": " + s
	}
	return msg
}

// Output runs command on r and returns its standard output. When the command
// fails, the error carries the tail of its standard error.
func Output(ctx context.Context, r Runner, command string) (string, error) {
	var stdout, stderr bytes.Buffer
	err := r.Run(ctx, Cmd{Command: command, Stdout: &stdout, Stderr: &stderr})
	return stdout.String(), withStderr(err, stderr.String())
}

// OutputWithInput is Output with stdin as the command's standard input.
func OutputWithInput(ctx context.Context, r Runner, command string, stdin io.Reader) (string, error) {
	var stdout, stderr bytes.Buffer
	err := r.Run(ctx, Cmd{Command: command, Stdin: stdin, Stdout: &stdout, Stderr: &stderr})
	return stdout.String(), withStderr(err, stderr.String())
}

// CombinedOutput runs command on r and returns standard output and standard
// error interleaved, as a terminal would show them.
func CombinedOutput(ctx context.Context, r Runner, command string) (string, error) {
	return CombinedOutputWithInput(ctx, r, command, nil)
}

// CombinedOutputWithInput is CombinedOutput with stdin as the command's
// standard input: for a script that must not appear on a command line.
func CombinedOutputWithInput(ctx context.Context, r Runner, command string, stdin io.Reader) (string, error) {
	var out syncBuffer
	err := r.Run(ctx, Cmd{Command: command, Stdin: stdin, Stdout: &out, Stderr: &out})
	return out.String(), withStderr(err, out.String())
}

// withStderr adds the tail of stderr to an *ExitError.
func withStderr(err error, stderr string) error {
	var exit *ExitError
	if errors.As(err, &exit) && exit.Stderr == "" {
		exit.Stderr = tail(stderr, 2048)
	}
	return err
}

// ShellQuote quotes s for a POSIX shell.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

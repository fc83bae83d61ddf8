package k8snode

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/planetstage/planetstage/internal/proc"
)

// run runs a program the build needs in dir with env added to this
// process's, returning the tail of its output in the error.
func (b *builder) run(ctx context.Context, dir string, env []string, stdin io.Reader, name string, args ...string) error {
	cmd := proc.Command(ctx, name, args...)
	cmd.Dir, cmd.Stdin = dir, stdin
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return b.wait(ctx, cmd, &out)
}

// output runs a program and returns its standard output, which is also
// returned (as far as it got) when the program fails.
func (b *builder) output(ctx context.Context, stdin io.Reader, name string, args ...string) (string, error) {
	cmd := proc.Command(ctx, name, args...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := b.wait(ctx, cmd, &stderr)
	return stdout.String(), err
}

// docker runs the docker CLI and returns its standard output.
//
// The node image build stays on the CLI while package lab uses the Engine
// API (issue 14): it runs once per machine, outside any test's hot path;
// its import streams a tarball from a pipe that the cancellation tests
// (cancel_test.go) interrupt through a stand-in docker program, which a
// socket client would not let them replace; and `docker import --change`
// has no counterpart in go-dockerclient's ImportImage.
func (b *builder) docker(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	return b.output(ctx, stdin, b.dockerCLI, args...)
}

// wait runs cmd, started with proc.Command so that cancelling ctx stops it
// and its children within seconds. Once ctx is done the error is ctx's,
// whatever the program's exit status, so that no caller takes an
// interrupted step for a finished one; otherwise a failure carries the tail
// of diag.
func (b *builder) wait(ctx context.Context, cmd *exec.Cmd, diag *bytes.Buffer) error {
	b.log.Debug("exec", "dir", cmd.Dir, "cmd", cmd.Args[0], "args", cmd.Args[1:])
	err := cmd.Run()
	what := strings.Join(cmd.Args, " ")
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("%s: %w: %s", what, err, tail(diag.String(), 1500))
	}
	return nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"path"
	"strings"

	"github.com/planetstage/planetstage/remote"
)

// The lab talks to Docker through the docker CLI rather than the API client
// that dockertest wraps (go-dockerclient), because:
//   - `docker import --change` (CMD/ENTRYPOINT on an imported root file
//     system) has no counterpart in go-dockerclient's ImportImage;
//   - the CLI negotiates the API version with whatever engine is there
//     (20.10 / API 1.41 here) and honours DOCKER_HOST, contexts and TLS
//     exactly like the user's own `docker` commands;
//   - govmomi's simulator drives container-backed VMs with the same CLI, so
//     the lab adds no second prerequisite, and docker's own error messages
//     reach the user unchanged.

// dockerCLI runs the docker command line client.
type dockerCLI struct {
	bin string
}

func newDockerCLI() (dockerCLI, error) {
	bin, err := exec.LookPath("docker")
	if err != nil {
		return dockerCLI{}, fmt.Errorf("lab: the docker CLI is not on PATH (install docker.io or docker-ce-cli): %w", err)
	}
	return dockerCLI{bin: bin}, nil
}

// run runs docker with args and returns its standard output.
func (d dockerCLI) run(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, d.bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return stdout.String(), fmt.Errorf("docker %s: %w: %s", verb(args), err, strings.TrimSpace(tail(stderr.String(), 1024)))
	}
	return stdout.String(), nil
}

// ping checks that a Docker engine answers, and returns its version.
func (d dockerCLI) ping(ctx context.Context) (string, error) {
	out, err := d.run(ctx, nil, "version", "--format", "{{.Server.Version}}")
	if err != nil {
		return "", fmt.Errorf("lab: no Docker engine answers (is dockerd running, and may this user use it?): %w", err)
	}
	return strings.TrimSpace(out), nil
}

// verb names a docker invocation for errors without its arguments, which may
// be long and are not needed to understand what failed.
func verb(args []string) string {
	var words []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") || len(words) == 2 {
			break
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// execRunner is a remote.Runner that runs commands in a container with
// `docker exec`. The lab uses it for its own plumbing (the reachability
// matrix, routes); layers reach machines over SSH like on real hardware.
type execRunner struct {
	d         dockerCLI
	container string
	name      string
}

var _ remote.Runner = execRunner{}

// errNotExist is the exit status ReadFile's script uses for a missing file.
const errNotExist = 44

func (r execRunner) Host() string { return r.name }

func (r execRunner) Run(ctx context.Context, c remote.Cmd) error {
	args := []string{"exec"}
	if c.Stdin != nil {
		args = append(args, "-i")
	}
	args = append(args, r.container, "/bin/sh", "-c", c.Command)
	cmd := exec.CommandContext(ctx, r.d.bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return &remote.ExitError{Host: r.name, Command: c.Command, Status: exit.ExitCode()}
	}
	return fmt.Errorf("%s: docker exec: %w", r.name, err)
}

func (r execRunner) WriteFile(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	dir := path.Dir(p)
	tmp := path.Join(dir, "."+path.Base(p)+".planetstage-tmp")
	script := fmt.Sprintf("set -e; mkdir -p %s; umask 077; cat > %s; chmod %o %s; mv -f %s %s",
		remote.ShellQuote(dir), remote.ShellQuote(tmp), mode.Perm(), remote.ShellQuote(tmp), remote.ShellQuote(tmp), remote.ShellQuote(p))
	var stderr bytes.Buffer
	err := r.Run(ctx, remote.Cmd{Command: script, Stdin: bytes.NewReader(data), Stderr: &stderr})
	if err != nil {
		return fmt.Errorf("%s: write %s: %w: %s", r.name, p, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func (r execRunner) ReadFile(ctx context.Context, p string) ([]byte, error) {
	var stdout bytes.Buffer
	script := fmt.Sprintf("[ -e %s ] || exit %d; cat %s", remote.ShellQuote(p), errNotExist, remote.ShellQuote(p))
	err := r.Run(ctx, remote.Cmd{Command: script, Stdout: &stdout})
	var exit *remote.ExitError
	if errors.As(err, &exit) && exit.Status == errNotExist {
		return nil, fmt.Errorf("%s: read %s: %w", r.name, p, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", r.name, p, err)
	}
	return stdout.Bytes(), nil
}

package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	dc "github.com/ory/dockertest/v3/docker"

	"github.com/planetstage/planetstage/remote"
)

// execSpec is one `docker exec`: argv in a running container, with
// optional standard streams (nil input is empty, nil output discarded).
type execSpec struct {
	Container string
	User      string // empty: the image's user
	Cmd       []string
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
}

// errExecNotStarted is an exec the engine accepted but never ran (its
// container stopped in between).
var errExecNotStarted = errors.New("the process never started (is the container running?)")

// exec runs s and returns the process's exit status. When ctx ends first,
// the process and its descendants are killed (see killExec) and exec
// returns ctx's error.
func (e *engine) exec(ctx context.Context, s execSpec) (int, error) {
	x, err := e.c.CreateExec(dc.CreateExecOptions{Container: s.Container, Cmd: s.Cmd, User: s.User,
		AttachStdin: s.Stdin != nil, AttachStdout: true, AttachStderr: true, Context: ctx})
	if err != nil {
		return -1, fmt.Errorf("docker exec %s: %w", s.Container, ctxErr(ctx, err))
	}
	// go-dockerclient's stream copies may still write after a cancelled
	// exec returns, and it closes an input that is an io.Closer: the
	// caller's streams are shielded from both.
	stdout, stderr := &guardedWriter{w: s.Stdout}, &guardedWriter{w: s.Stderr}
	defer stdout.close()
	defer stderr.close()
	var stdin io.Reader
	if s.Stdin != nil {
		stdin = readerOnly{s.Stdin}
	}
	cw, err := e.c.StartExecNonBlocking(x.ID, dc.StartExecOptions{InputStream: stdin, OutputStream: stdout, ErrorStream: stderr})
	if err != nil {
		return -1, fmt.Errorf("docker exec %s: start: %w", s.Container, ctxErr(ctx, err))
	}
	streamed := make(chan error, 1)
	go func() { streamed <- cw.Wait() }()
	var streamErr error
	select {
	case streamErr = <-streamed:
	case <-ctx.Done():
		// The Engine API has no call that stops an exec: kill its process.
		kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		kerr := e.killExec(kctx, s.Container, x.ID)
		_ = cw.Close()
		if kerr != nil {
			return -1, fmt.Errorf("%w (and the process in %s was not killed: %v)", ctx.Err(), s.Container, kerr)
		}
		return -1, ctx.Err()
	}
	// The streams end when the process does; its status follows at once.
	for range 50 {
		st, err := e.api.inspectExec(ctx, x.ID)
		if err != nil {
			return -1, fmt.Errorf("docker exec %s: inspect: %w", s.Container, err)
		}
		if !st.Running {
			if st.Pid == 0 && st.ExitCode == 0 {
				return -1, fmt.Errorf("docker exec %s: %w", s.Container, errExecNotStarted)
			}
			if err := errors.Join(stdout.err, stderr.err); err != nil {
				return st.ExitCode, fmt.Errorf("docker exec %s: write output: %w", s.Container, err)
			}
			return st.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return -1, fmt.Errorf("docker exec %s: the output ended but the process runs on (stream: %v)", s.Container, streamErr)
}

// killExec kills an exec's process and every process it started: the
// process id comes from ExecInspect (in the engine host's PID namespace).
// Killed from here when this process may (root, on the engine's host);
// otherwise from a second exec inside the container, with the ids the
// container sees (NSpid in /proc). An exec that ended is left alone.
func (e *engine) killExec(ctx context.Context, container, id string) error {
	st, err := e.api.inspectExec(ctx, id)
	if err != nil {
		return err
	}
	if !st.Running || st.Pid == 0 {
		return nil
	}
	pids := processTree(st.Pid)
	var denied bool
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGKILL); errors.Is(err, syscall.EPERM) {
			denied = true
		}
	}
	if !denied {
		return nil
	}
	return e.killInContainer(ctx, container, pids)
}

// killInContainer kills host pids from inside container, where they have
// other ids: the innermost of each one's NSpid.
func (e *engine) killInContainer(ctx context.Context, container string, hostPIDs []int) error {
	var inner []string
	for _, pid := range hostPIDs {
		if ns, ok := innerPID(pid); ok {
			inner = append(inner, strconv.Itoa(ns))
		}
	}
	if len(inner) == 0 {
		return fmt.Errorf("processes %v: not in this host's /proc (a remote engine?)", hostPIDs)
	}
	var stderr bytes.Buffer
	status, err := e.exec(ctx, execSpec{Container: container, Cmd: []string{"/bin/sh", "-c", "kill -KILL " + strings.Join(inner, " ")}, Stderr: &stderr})
	if err == nil && status != 0 {
		// Some may have ended in between; kill says which.
		err = fmt.Errorf("kill exited with %d: %s", status, strings.TrimSpace(stderr.String()))
	}
	return err
}

// processTree is pid and its descendants, from /proc's children lists;
// just pid where the kernel keeps none.
func processTree(pid int) []int {
	pids := []int{pid}
	for i := 0; i < len(pids); i++ {
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pids[i]))
		for _, t := range tasks {
			data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pids[i], t.Name()))
			for _, f := range strings.Fields(string(data)) {
				if c, err := strconv.Atoi(f); err == nil {
					pids = append(pids, c)
				}
			}
		}
	}
	return pids
}

// innerPID is pid's id in the innermost PID namespace it is in.
func innerPID(pid int) (int, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "NSpid:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return 0, false
			}
			n, err := strconv.Atoi(f[len(f)-1])
			return n, err == nil
		}
	}
	return 0, false
}

// guardedWriter passes writes on until closed, then drops them, and keeps
// the first write error.
type guardedWriter struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
	err    error
}

func (g *guardedWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || g.w == nil {
		return len(p), nil
	}
	n, err := g.w.Write(p)
	if err != nil && g.err == nil {
		g.err = err
	}
	return n, err
}

func (g *guardedWriter) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// readerOnly hides every method of a reader but Read.
type readerOnly struct{ r io.Reader }

func (r readerOnly) Read(p []byte) (int, error) { return r.r.Read(p) }

// execRunner is a remote.Runner that runs commands in a container through
// the Engine API's exec. The lab uses it for its own plumbing (the
// reachability matrix, routes); layers reach machines over SSH like on
// real hardware.
type execRunner struct {
	e         *engine
	container string
	name      string
}

var _ remote.Runner = execRunner{}

// errNotExist is the exit status ReadFile's script uses for a missing file.
const errNotExist = 44

func (r execRunner) Host() string { return r.name }

// Run runs c.Command with /bin/sh -c. A status other than zero is a
// *remote.ExitError; a cancelled ctx kills the command and returns ctx's
// error.
func (r execRunner) Run(ctx context.Context, c remote.Cmd) error {
	status, err := r.e.exec(ctx, execSpec{Container: r.container, Cmd: []string{"/bin/sh", "-c", c.Command},
		Stdin: c.Stdin, Stdout: c.Stdout, Stderr: c.Stderr})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	if status != 0 {
		return &remote.ExitError{Host: r.name, Command: c.Command, Status: status}
	}
	return nil
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

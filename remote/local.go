package remote

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Local runs commands on this machine. It is for tests, and for operators
// who run planetstage on the router itself. The zero value is ready to use.
type Local struct {
	// Name is what Host reports; "localhost" when empty.
	Name string
}

var _ Runner = (*Local)(nil)

// Host implements Runner.
func (l *Local) Host() string {
	if l.Name == "" {
		return "localhost"
	}
	return l.Name
}

// Run implements Runner. Cancelling ctx kills the command's whole process
// group, so a shell pipeline does not outlive it.
func (l *Local) Run(ctx context.Context, cmd Cmd) error {
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd.Command)
	c.Stdin, c.Stdout, c.Stderr = cmd.Stdin, cmd.Stdout, cmd.Stderr
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = 2 * time.Second
	err := c.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %q: %w", l.Host(), firstLine(cmd.Command), ctx.Err())
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return &ExitError{Host: l.Host(), Command: cmd.Command, Status: exit.ExitCode()}
	}
	if err != nil {
		return fmt.Errorf("%s: %q: %w", l.Host(), firstLine(cmd.Command), err)
	}
	return nil
}

// WriteFile implements Runner.
func (l *Local) WriteFile(_ context.Context, path string, data []byte, mode fs.FileMode) error {
	if err := writeFileAtomic(path, data, mode); err != nil {
		return fmt.Errorf("%s: write %s: %w", l.Host(), path, err)
	}
	return nil
}

// ReadFile implements Runner.
func (l *Local) ReadFile(_ context.Context, path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", l.Host(), path, err)
	}
	return data, nil
}

// writeFileAtomic writes data to a temporary file next to path, syncs it,
// sets mode and renames it into place.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// A write killed before its rename (a process killed mid-apply)
	// leaves its temporary file; the next write of the same file removes
	// it, as the SSH runner's does.
	stale, _ := filepath.Glob(filepath.Join(dir, "."+globEscape(filepath.Base(path))+".tmp-*"))
	for _, s := range stale {
		_ = os.Remove(s)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// globEscape quotes the characters filepath.Match treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

package kubeadmtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"sync"

	"github.com/planetstage/planetstage/remote"
)

// Reply is what the fake answers to a command.
type Reply struct {
	Stdout string
	Stderr string
	// Status is the exit status; non-zero returns a *remote.ExitError.
	Status int
}

// Entry is one recorded action.
type Entry struct {
	Host string
	// Op is "run", "write" or "read"; "down" is any of them refused
	// because the host is down (SetDown).
	Op string
	// What is the command, or the file's path.
	What string
	// Stdin is the command's standard input (for "run").
	Stdin string
}

func (e Entry) String() string { return e.Host + " " + e.Op + " " + e.What }

// FakeHosts is a recording stand-in for a set of machines. Script decides
// the reply to each command; nil means success with no output. It may be
// changed only before the hosts are used.
type FakeHosts struct {
	Script func(host, command string) Reply

	mu    sync.Mutex
	log   []Entry
	files map[string]map[string][]byte
	down  map[string]bool
}

// NewFakeHosts returns an empty fake.
func NewFakeHosts(script func(host, command string) Reply) *FakeHosts {
	return &FakeHosts{Script: script, files: map[string]map[string][]byte{}, down: map[string]bool{}}
}

// SetDown marks host as stopped (or back up). Like a pooled SSH runner
// whose machine went away, Dial still succeeds, and every command or file
// operation fails with a connection error that is not a *remote.ExitError.
func (f *FakeHosts) SetDown(host string, down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down[host] = down
}

// refuse records what a down host was asked and returns the error a dead
// connection gives; nil when host is up.
func (f *FakeHosts) refuse(host, what string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.down[host] {
		return nil
	}
	f.log = append(f.log, Entry{Host: host, Op: "down", What: what})
	return fmt.Errorf("fake host %s: connection refused (host is down)", host)
}

// Dial returns the fake Runner of host; its signature fits
// layer.Env.Dial and kubeadm.Bootstrapper.Dial.
func (f *FakeHosts) Dial(_ context.Context, host string) (remote.Runner, error) {
	return &fakeRunner{host: host, f: f}, nil
}

// Log returns the recorded entries in the order they happened.
func (f *FakeHosts) Log() []Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Entry(nil), f.log...)
}

// Commands returns "host command" for every command run, in order.
func (f *FakeHosts) Commands() []string {
	var out []string
	for _, e := range f.Log() {
		if e.Op == "run" {
			out = append(out, e.Host+" "+e.What)
		}
	}
	return out
}

// File returns what was last written to path on host.
func (f *FakeHosts) File(host, path string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.files[host][path]
	return b, ok
}

// SetFile puts a file on host, as if it had been there before.
func (f *FakeHosts) SetFile(host, path string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.files[host] == nil {
		f.files[host] = map[string][]byte{}
	}
	f.files[host][path] = bytes.Clone(data)
}

type fakeRunner struct {
	host string
	f    *FakeHosts
}

func (r *fakeRunner) Host() string { return r.host }

func (r *fakeRunner) Run(ctx context.Context, cmd remote.Cmd) error {
	if err := r.f.refuse(r.host, cmd.Command); err != nil {
		return err
	}
	var stdin string
	if cmd.Stdin != nil {
		b, err := io.ReadAll(cmd.Stdin)
		if err != nil {
			return err
		}
		stdin = string(b)
	}
	f := r.f
	f.mu.Lock()
	f.log = append(f.log, Entry{Host: r.host, Op: "run", What: cmd.Command, Stdin: stdin})
	f.mu.Unlock()

	var reply Reply
	if f.Script != nil {
		reply = f.Script(r.host, cmd.Command)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if cmd.Stdout != nil {
		io.WriteString(cmd.Stdout, reply.Stdout)
	}
	if cmd.Stderr != nil {
		io.WriteString(cmd.Stderr, reply.Stderr)
	}
	if reply.Status != 0 {
		return &remote.ExitError{Host: r.host, Command: cmd.Command, Status: reply.Status}
	}
	return nil
}

func (r *fakeRunner) WriteFile(_ context.Context, path string, data []byte, mode fs.FileMode) error {
	if err := r.f.refuse(r.host, path); err != nil {
		return err
	}
	f := r.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, Entry{Host: r.host, Op: "write", What: fmt.Sprintf("%s %04o", path, mode)})
	if f.files[r.host] == nil {
		f.files[r.host] = map[string][]byte{}
	}
	f.files[r.host][path] = bytes.Clone(data)
	return nil
}

func (r *fakeRunner) ReadFile(_ context.Context, path string) ([]byte, error) {
	if err := r.f.refuse(r.host, path); err != nil {
		return nil, err
	}
	f := r.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, Entry{Host: r.host, Op: "read", What: path})
	b, ok := f.files[r.host][path]
	if !ok {
		return nil, fmt.Errorf("%s: read %s: %w", r.host, path, fs.ErrNotExist)
	}
	return bytes.Clone(b), nil
}

package openvpntest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/planetstage/planetstage/remote"
)

// RootedRunner makes a router namespace look like a machine of its own to
// code that uses fixed paths (the Linux driver's defaults): files are read
// and written under Root, and commands run in the namespace in a private
// mount namespace where each of Binds (say /etc/planetstage) is Root+Bind.
// Daemons started by a command keep that mount namespace.
type RootedRunner struct {
	NS    string
	Root  string
	Binds []string
	local remote.Local
}

var _ remote.Runner = (*RootedRunner)(nil)

// Rooted returns a RootedRunner for site i's router with its root under
// Dirs[i]. Every bind target must exist on this machine; RequireMountPoints
// makes them.
func (l *Lab) Rooted(i int, binds ...string) *RootedRunner {
	return &RootedRunner{NS: l.RouterNS(i), Root: filepath.Join(l.Dirs[i], "root"), Binds: binds}
}

// RequireMountPoints creates the directories RootedRunner binds over, and
// removes on cleanup those it created.
func RequireMountPoints(t testing.TB, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		// The topmost missing directory is the one to remove afterwards.
		top := ""
		for p := filepath.Clean(d); p != "/" && p != "."; p = filepath.Dir(p) {
			if _, err := os.Stat(p); err == nil {
				break
			}
			top = p
		}
		if top == "" {
			continue
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Skipf("cannot create mount point %s: %v", d, err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(top) }) // empty: only ever a mount point
	}
}

// Run implements remote.Runner.
func (r *RootedRunner) Run(ctx context.Context, cmd remote.Cmd) error {
	var pre strings.Builder
	for _, b := range r.Binds {
		src := filepath.Join(r.Root, b)
		fmt.Fprintf(&pre, "mkdir -p %[1]s && mount --bind %[1]s %[2]s || exit 1; ", remote.ShellQuote(src), remote.ShellQuote(b))
	}
	cmd.Command = "ip netns exec " + r.NS + " unshare -m /bin/sh -c " + remote.ShellQuote(pre.String()+cmd.Command)
	return r.local.Run(ctx, cmd)
}

// WriteFile implements remote.Runner, under Root.
func (r *RootedRunner) WriteFile(ctx context.Context, path string, data []byte, mode fs.FileMode) error {
	return r.local.WriteFile(ctx, filepath.Join(r.Root, path), data, mode)
}

// ReadFile implements remote.Runner, under Root.
func (r *RootedRunner) ReadFile(ctx context.Context, path string) ([]byte, error) {
	return r.local.ReadFile(ctx, filepath.Join(r.Root, path))
}

// Host implements remote.Runner.
func (r *RootedRunner) Host() string { return r.NS }

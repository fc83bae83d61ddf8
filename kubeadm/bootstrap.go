package kubeadm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/secret"
)

// Paths on the nodes.
const (
	// ConfigDir holds the rendered kubeadm configs (mode 0600: they carry
	// the bootstrap token).
	ConfigDir = "/etc/kubernetes/planetstage"
	// MarkerFile exists once kubeadm init or join succeeded on a node; a
	// re-run finds it and does nothing. kubeadm reset does not remove it, so
	// Reset does.
	MarkerFile = "/var/lib/planetstage/kubeadm.done"
	// AdminKubeconfig is what kubectl on a control plane uses.
	AdminKubeconfig = "/etc/kubernetes/admin.conf"
)

const (
	storeToken   = "cluster/token.json"
	storeMembers = "cluster/members.json"
)

// Bootstrapper runs the kubeadm flow for one Cluster over remote.Runner. Its
// methods are the steps of a plan: each is safe to re-run, and independent
// steps (worker joins) may run concurrently.
type Bootstrapper struct {
	Cluster *Cluster
	// Store keeps the PKI, the current bootstrap token and the list of
	// joined nodes between runs: a secret.Dir, or topology.State.
	Store secret.Store
	// Dial returns a Runner for a node by name.
	Dial func(ctx context.Context, node string) (remote.Runner, error)
	// Log receives progress; nil discards it.
	Log *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// TokenTTL bounds bootstrap tokens; DefaultTokenTTL when zero.
	TokenTTL time.Duration
	// ReadyTimeout bounds WaitReady; 10 minutes when zero.
	ReadyTimeout time.Duration
	// PollInterval is how often WaitReady and Deploy look; 5 s when zero.
	PollInterval time.Duration

	mu sync.Mutex // token refresh and members file

	viaMu sync.Mutex
	via   string // the control plane that last ran kubectl for onControlPlane
}

func (b *Bootstrapper) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

func (b *Bootstrapper) log() *slog.Logger {
	if b.Log != nil {
		return b.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (b *Bootstrapper) ttl() time.Duration {
	if b.TokenTTL > 0 {
		return b.TokenTTL
	}
	return DefaultTokenTTL
}

func (b *Bootstrapper) poll() time.Duration {
	if b.PollInterval > 0 {
		return b.PollInterval
	}
	return 5 * time.Second
}

// dial wraps Dial with the node's name in the error.
func (b *Bootstrapper) dial(ctx context.Context, node string) (remote.Runner, error) {
	if b.Dial == nil {
		return nil, fmt.Errorf("node %q: no Dial function", node)
	}
	r, err := b.Dial(ctx, node)
	if err != nil {
		return nil, fmt.Errorf("node %q: connect: %w", node, err)
	}
	return r, nil
}

// Done says whether kubeadm init or join already succeeded on the node.
func Done(ctx context.Context, r remote.Runner) (bool, error) {
	_, err := r.ReadFile(ctx, MarkerFile)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("%s: read %s: %w", r.Host(), MarkerFile, err)
}

// Certs makes sure the shared PKI exists in the Store and returns it.
func (b *Bootstrapper) Certs() (*PKI, error) {
	p, created, err := LoadOrCreatePKI(b.Store, b.now())
	if err != nil {
		return nil, err
	}
	if created {
		b.log().Info("generated cluster CAs and service-account key")
	}
	return p, nil
}

// placePKI copies the shared CAs and SA key to a control plane; keys 0600.
func placePKI(ctx context.Context, r remote.Runner, p *PKI) error {
	for _, f := range pkiFiles() {
		mode := fs.FileMode(0o644)
		if f.secret {
			mode = 0o600
		}
		if err := r.WriteFile(ctx, nodePath(f.name), p.Files[f.name], mode); err != nil {
			return fmt.Errorf("place %s: %w", f.name, err)
		}
	}
	return nil
}

// run runs a command and returns its standard output. On failure the error
// carries the tail of standard error with the stored token and secrets scrubbed.
func (b *Bootstrapper) run(ctx context.Context, r remote.Runner, command string, stdin []byte, secrets ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := remote.Cmd{Command: command, Stdout: &stdout, Stderr: &stderr}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if err := r.Run(ctx, cmd); err != nil {
		var exit *remote.ExitError
		if errors.As(err, &exit) {
			// Scrub the whole output before cutting it: a cut through
			// a token would leave a part that no longer matches.
			msg := b.scrub(stderr.String())
			for _, sec := range secrets {
				msg = strings.ReplaceAll(msg, sec, secret.Redacted)
			}
			msg = strings.TrimSpace(tail(msg, 1024))
			return "", &commandError{
				msg: fmt.Sprintf("%s: %q exited with status %d: %s", r.Host(), firstLine(command), exit.Status, msg),
				// Without Stderr: only the scrubbed message may carry output.
				exit: &remote.ExitError{Host: exit.Host, Command: exit.Command, Status: exit.Status},
			}
		}
		return "", err
	}
	return stdout.String(), nil
}

// commandError is a command that ran and failed. Its message is run's
// scrubbed one; it unwraps to the *remote.ExitError, so callers can tell "the
// command failed" from "the node could not be reached".
type commandError struct {
	msg  string
	exit *remote.ExitError
}

func (e *commandError) Error() string { return e.msg }
func (e *commandError) Unwrap() error { return e.exit }

// scrub replaces the stored bootstrap token in s, however kubeadm chose to
// print it.
func (b *Bootstrapper) scrub(s string) string {
	if b.Store == nil {
		return s // a Bootstrapper used only for kubectl holds no token
	}
	raw, err := b.Store.Read(storeToken)
	if err != nil {
		return s
	}
	tok, err := parseToken(raw)
	if err != nil {
		return s
	}
	s = strings.ReplaceAll(s, tok.Value, RedactedToken)
	return strings.ReplaceAll(s, tok.Value[7:], secret.Redacted)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// kubectl prefixes a kubectl command line with the admin kubeconfig.
func kubectl(args string) string {
	return "kubectl --kubeconfig " + AdminKubeconfig + " " + args
}

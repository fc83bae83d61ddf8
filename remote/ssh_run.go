package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// runWrapper runs "$1" in a process group of its own, so that a cancel
// kills the whole command (pipelines, background children), not only the
// shell sshd started. Stdin is handed over on fd 3 because a background
// job's stdin would be /dev/null. The wrapper's $0 carries a token by which
// killScript finds it; TERM makes it kill the group.
const runWrapper = `exec 3<&0
if command -v setsid >/dev/null 2>&1; then
	setsid /bin/sh -c "$1" <&3 3<&- &
else
	/bin/sh -c "$1" <&3 3<&- &
fi
p=$!
exec 3<&-
trap 'kill -KILL -$p $p 2>/dev/null; exit 143' TERM HUP INT
wait $p`

// killScript sends TERM to the processes whose command line holds the
// token (the wrapper, and sudo in front of it). The pattern's bracket keeps
// grep from matching its own command line. Used because OpenSSH refuses
// SSH "signal" requests for root logins (no privilege separation then).
const killScript = `for f in $(grep -laE "$pattern" /proc/[0-9]*/cmdline 2>/dev/null); do
	f=${f#/proc/}
	kill -TERM "${f%/cmdline}" 2>/dev/null
done
:`

// killTimeout bounds the clean-up of a cancelled command.
const killTimeout = 5 * time.Second

// remoteCommand is the exec request for command: always /bin/sh, whatever
// the login shell, through sudo when configured.
func (s *SSH) remoteCommand(command, token string) string {
	c := "/bin/sh -c " + ShellQuote(runWrapper) + " " + token + " " + ShellQuote(command)
	if s.cfg.Sudo {
		c = "sudo -n " + c
	}
	return c
}

// newRunToken returns a name unique to one Run.
func newRunToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "planetstage-run-" + hex.EncodeToString(b[:])
}

// Run implements Runner. Cancelling ctx kills the command's process group
// on the host, then returns ctx's error.
func (s *SSH) Run(ctx context.Context, cmd Cmd) error {
	fail := func(err error) error {
		return fmt.Errorf("%s: %q: %w", s.Host(), firstLine(cmd.Command), err)
	}
	if ctx.Err() != nil {
		return fail(ctx.Err())
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	conn, sess, err := s.session(ctx)
	if err != nil {
		return err
	}
	defer sess.Close()

	// After a cancelled Run returns, the session's copy goroutines may still
	// be draining: they must not touch the caller's writers any more.
	stdout, stderr := newGate(cmd.Stdout), newGate(cmd.Stderr)
	defer stdout.shut()
	defer stderr.shut()
	sess.Stdin, sess.Stdout, sess.Stderr = cmd.Stdin, stdout, stderr
	token := newRunToken()
	if err := sess.Start(s.remoteCommand(cmd.Command, token)); err != nil {
		return fail(fmt.Errorf("start: %w", err))
	}
	waited := make(chan error, 1)
	go func() { waited <- sess.Wait() }()

	select {
	case err = <-waited:
	case <-ctx.Done():
		_ = sess.Signal(ssh.SIGTERM) // honoured for non-root logins
		_ = sess.Close()             // frees the session slot for the kill
		if kerr := s.kill(conn, token); kerr != nil {
			s.log.WarnContext(ctx, "cancelled command may still run", "host", s.Host(), "err", kerr)
		}
		return fail(ctx.Err())
	}
	if err == nil {
		return nil
	}
	var exit *ssh.ExitError
	if errors.As(err, &exit) {
		status := exit.ExitStatus()
		if sig := exit.Signal(); sig != "" {
			status = 128 + signalNumber[sig]
		}
		return &ExitError{Host: s.Host(), Command: cmd.Command, Status: status}
	}
	var missing *ssh.ExitMissingError
	if errors.As(err, &missing) {
		return fail(errors.New("connection lost before the command's exit status arrived; it may or may not have run to the end"))
	}
	return fail(err)
}

// kill stops the command started with token, over a new session on conn.
func (s *SSH) kill(conn *sshConn, token string) error {
	ctx, cancel := context.WithTimeout(context.Background(), killTimeout)
	defer cancel()
	sess, err := openSession(ctx, conn)
	if err != nil {
		return err
	}
	defer sess.Close()
	pattern := "[" + token[:1] + "]" + token[1:]
	c := "/bin/sh -c " + ShellQuote("pattern="+ShellQuote(pattern)+"\n"+killScript)
	if s.cfg.Sudo {
		c = "sudo -n " + c
	}
	done := make(chan error, 1)
	go func() { done <- sess.Run(c) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return errors.New("kill did not finish in time")
	}
}

// signalNumber maps the SSH signal names an exit can report to their Linux
// numbers, for ExitError.Status (128+n, as a shell reports it).
var signalNumber = map[string]int{
	"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "ABRT": 6, "FPE": 8, "KILL": 9,
	"USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15,
}

// session opens a session on the live connection. A connection that turns
// out to be dead is dropped and dialled again, once: no command has run.
func (s *SSH) session(ctx context.Context) (*sshConn, *ssh.Session, error) {
	for redialled := false; ; redialled = true {
		c, err := s.connection(ctx)
		if err != nil {
			return nil, nil, err
		}
		sess, err := openSession(ctx, c)
		if err == nil {
			return c, sess, nil
		}
		var refused *ssh.OpenChannelError
		if errors.As(err, &refused) || ctx.Err() != nil || redialled {
			return nil, nil, fmt.Errorf("%s: open session: %w", s.Host(), err)
		}
		s.log.DebugContext(ctx, "ssh connection died, re-dialling", "host", s.Host(), "err", err)
		s.forget(c)
	}
}

// openSession opens a session on c. A host refusing it because its slots
// (sshd's MaxSessions) are still held by sessions that just ended is asked
// again after a pause, for up to sessionPatience.
func openSession(ctx context.Context, c *sshConn) (*ssh.Session, error) {
	deadline := time.Now().Add(sessionPatience)
	for pause := 10 * time.Millisecond; ; pause = min(2*pause, 500*time.Millisecond) {
		sess, err := c.client.NewSession()
		var refused *ssh.OpenChannelError
		if err == nil || !errors.As(err, &refused) || time.Now().After(deadline) {
			return sess, err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// sessionPatience bounds how long a refused session is asked for again.
const sessionPatience = 10 * time.Second

// gate forwards writes to w until shut; later writes are dropped.
type gate struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

func newGate(w io.Writer) *gate {
	if w == nil {
		w = io.Discard
	}
	return &gate{w: w}
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return len(p), nil
	}
	return g.w.Write(p)
}

func (g *gate) shut() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// writeScript writes stdin to $f atomically; see Runner.WriteFile. A
// write killed before its mv (a cancelled apply: the session gets SIGTERM,
// then the kill) can leave its temporary file; the traps remove it where
// the shell still runs, and the next write of the same file removes what
// a SIGKILL left.
const writeScript = `set -e
d=$(dirname -- "$f")
b=$(basename -- "$f")
mkdir -p -- "$d"
for o in "$d/.$b.tmp-"??????; do [ ! -e "$o" ] || rm -f -- "$o"; done
t=$(mktemp "$d/.$b.tmp-XXXXXX")
trap 'rm -f -- "$t"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 141' PIPE
cat >"$t"
chmod "$m" "$t"
sync -- "$t" 2>/dev/null || :
mv -f -- "$t" "$f"
trap - EXIT`

// WriteFile implements Runner. The data travels on the command's standard
// input, never in a command line. The file belongs to the login user (root
// with Sudo), also when it replaces a file someone else owned.
func (s *SSH) WriteFile(ctx context.Context, path string, data []byte, mode fs.FileMode) error {
	if path == "" || strings.HasSuffix(path, "/") {
		return fmt.Errorf("%s: write %q: not a file path", s.Host(), path)
	}
	script := "f=" + ShellQuote(path) + " m=" + fmt.Sprintf("%04o", unixMode(mode)) + "\n" + writeScript
	var stderr bytes.Buffer
	err := s.Run(ctx, Cmd{Command: script, Stdin: bytes.NewReader(data), Stderr: &stderr})
	if err != nil {
		return s.fileError(ctx, "write", path, err, stderr.String())
	}
	return nil
}

// unixMode converts mode's permission and special bits to chmod's octal.
func unixMode(mode fs.FileMode) uint32 {
	m := uint32(mode.Perm())
	if mode&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if mode&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if mode&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	return m
}

// readNotExist is the status readScript exits with for a missing file.
const readNotExist = 3

// readScript cats $f. For a file that is not there it tells "missing"
// (exit 3) from "in a directory we may not search" by the nearest ancestor
// that exists.
const readScript = `if [ -e "$f" ]; then exec cat -- "$f"; fi
d=$f
while [ ! -e "$d" ]; do
	case $d in
	*/*) d=${d%/*}; [ -n "$d" ] || d=/ ;;
	*) d=. ;;
	esac
done
if [ -d "$d" ] && [ ! -x "$d" ]; then echo "cannot search directory $d" >&2; exit 1; fi
exit 3`

// ReadFile implements Runner.
func (s *SSH) ReadFile(ctx context.Context, path string) ([]byte, error) {
	if path == "" {
		return nil, fmt.Errorf("%s: read: empty path", s.Host())
	}
	var stdout, stderr bytes.Buffer
	err := s.Run(ctx, Cmd{Command: "f=" + ShellQuote(path) + "\n" + readScript, Stdout: &stdout, Stderr: &stderr})
	var exit *ExitError
	if errors.As(err, &exit) && exit.Status == readNotExist {
		return nil, fmt.Errorf("%s: read %s: %w", s.Host(), path, fs.ErrNotExist)
	}
	if err != nil {
		return nil, s.fileError(ctx, "read", path, err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// fileError reports a failed file script by what it said on stderr (the
// script's text is noise), or by the cancellation or connection error.
func (s *SSH) fileError(ctx context.Context, op, path string, err error, stderr string) error {
	var exit *ExitError
	switch {
	case errors.As(err, &exit):
		msg := strings.TrimSpace(tail(stderr, 1024))
		if msg == "" {
			msg = "no error output"
		}
		return fmt.Errorf("%s: %s %s: exit status %d: %s", s.Host(), op, path, exit.Status, msg)
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %s %s: %w", s.Host(), op, path, ctx.Err())
	default:
		return fmt.Errorf("%s %s: %w", op, path, err) // err names the host
	}
}

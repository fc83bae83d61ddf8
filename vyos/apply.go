package vyos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/planetstage/planetstage/remote"
)

// Shell is the command that runs a configuration script on a VyOS router.
// VyOS's login shell is vbash; "-s" reads the script from standard input.
const Shell = "/bin/vbash -s"

const scriptTemplate = "source /opt/vyatta/etc/functions/script-template"

// Output VyOS prints that Apply acts on, and what planetstage's scripts
// print: a script that did not print outDone did not run to its end, so its
// other output proves nothing.
const (
	outCommitFailed  = "Commit failed"
	outSetFailed     = "Set failed"
	outNoChanges     = "No configuration changes to commit"
	outAborted       = "planetstage: a set or delete failed"
	outSaveFailed    = "planetstage: save failed"
	outConfirmFailed = "planetstage: confirm failed"
	outDone          = "planetstage: end of script"
)

// statusNotFound is the shell's exit status for a command it cannot find:
// vbash, before the script ran at all.
const statusNotFound = 127

// Options tune Apply.
type Options struct {
	// ConfirmMinutes, when not 0, commits with "commit-confirm N": unless
	// Apply can reach the router again afterwards and confirm, VyOS rolls the
	// change back (by reboot up to 1.4) after N minutes.
	ConfirmMinutes int
	Log            *slog.Logger // nil discards
}

func (o Options) log() *slog.Logger {
	if o.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Log
}

// Drift is what Inspect found on a router.
type Drift struct {
	// Installed is false when none of the router's tunnels exist yet.
	Installed bool
	// Commands are the delete and set commands Apply would send, in order.
	Commands []Command
	// Files are the files Apply would write first.
	Files []File
	// StaleFiles are planetstage's files in /config/auth that the config no
	// longer refers to (replaced keys); Apply removes them after the commit.
	StaleFiles []string
}

// InSync reports whether Apply would change nothing.
func (d Drift) InSync() bool {
	return len(d.Commands) == 0 && len(d.Files) == 0 && len(d.StaleFiles) == 0
}

// Reasons lists the changes in human words, secrets redacted.
func (d Drift) Reasons() []string {
	var out []string
	for _, f := range d.Files {
		out = append(out, "write "+f.Path)
	}
	for _, c := range d.Commands {
		out = append(out, c.Redacted())
	}
	for _, f := range d.StaleFiles {
		out = append(out, "remove "+f)
	}
	return out
}

// Running reads the router's active configuration with
// "show configuration commands".
func Running(ctx context.Context, r remote.Runner) ([]Command, error) {
	script := scriptTemplate + "\nrun show configuration commands\n"
	out, err := remote.OutputWithInput(ctx, r, Shell, strings.NewReader(script))
	if err != nil {
		return nil, fmt.Errorf("router %q: show configuration commands: %w", r.Host(), err)
	}
	return ParseCommands(out), nil
}

// Diff returns the commands that turn running into c: deletes first (running
// lines under a subtree c owns that c does not have), then the sets running
// lacks. A whole owned instance (a tunnel interface, a route) that c no
// longer has is deleted with one command.
func Diff(c *Config, running []Command) []Command {
	want := map[string]bool{}
	for _, cmd := range c.Commands {
		want[cmd.key()] = true
	}
	have := map[string]bool{}
	for _, cmd := range running {
		have[cmd.key()] = true
	}
	var deletes []Command
	seen := map[string]bool{}
	for _, cmd := range running {
		if want[cmd.key()] {
			continue
		}
		owner := ownerOf(c.Owned, cmd.Path)
		if owner == nil {
			continue
		}
		path := cmd.Path
		// The instance under the owned subtree: "interfaces openvpn vtun5".
		if inst := cmd.Path[:min(len(owner)+1, len(cmd.Path))]; !slices.ContainsFunc(c.Commands, func(d Command) bool { return hasPrefix(d.Path, inst) }) {
			path = inst
		}
		if k := strings.Join(path, " "); !seen[k] {
			seen[k] = true
			deletes = append(deletes, Command{Delete: true, Path: path})
		}
	}
	var sets []Command
	for _, cmd := range c.Commands {
		if !have[cmd.key()] {
			sets = append(sets, cmd)
		}
	}
	return append(deletes, sets...)
}

func ownerOf(owned [][]string, path []string) []string {
	for _, o := range owned {
		if hasPrefix(path, o) {
			return o
		}
	}
	return nil
}

func hasPrefix(path, prefix []string) bool {
	return len(path) >= len(prefix) && slices.Equal(path[:len(prefix)], prefix)
}

// staleFiles lists planetstage's files in /config/auth that c does not have.
func staleFiles(ctx context.Context, r remote.Runner, c *Config) ([]string, error) {
	out, err := remote.Output(ctx, r, "ls -1 -- "+authDir+" 2>/dev/null || true")
	if err != nil {
		return nil, fmt.Errorf("router %q: list %s: %w", r.Host(), authDir, err)
	}
	want := map[string]bool{}
	for _, f := range c.Files {
		want[f.Path] = true
	}
	var stale []string
	for _, name := range strings.Fields(out) {
		if p := authDir + name; strings.HasPrefix(p, filePref) && !want[p] {
			stale = append(stale, p)
		}
	}
	// VyOS 1.3's WireGuard keys planetstage wrote, a keypair directory each.
	out, err = remote.Output(ctx, r, "ls -1 -- "+wgKeyDir+" 2>/dev/null || true")
	if err != nil {
		return nil, fmt.Errorf("router %q: list %s: %w", r.Host(), wgKeyDir, err)
	}
	for _, name := range strings.Fields(out) {
		key := wgKeyDir + name + "/private.key"
		if !strings.HasPrefix(name, "planetstage-") || want[key] {
			continue
		}
		// The emptied directory stays: it holds nothing.
		if _, err := r.ReadFile(ctx, key); err == nil {
			stale = append(stale, key)
		}
	}
	return stale, nil
}

// removeFiles deletes paths on the router.
func removeFiles(ctx context.Context, r remote.Runner, paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	quoted := make([]string, len(paths))
	for i, p := range paths {
		quoted[i] = remote.ShellQuote(p)
	}
	if _, err := remote.CombinedOutput(ctx, r, "rm -f "+strings.Join(quoted, " ")); err != nil {
		return fmt.Errorf("router %q: remove files: %w", r.Host(), err)
	}
	return nil
}

// Inspect compares the router with c. It changes nothing.
func Inspect(ctx context.Context, r remote.Runner, c *Config) (Drift, error) {
	var d Drift
	for _, f := range c.Files {
		have, err := r.ReadFile(ctx, f.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			d.Files = append(d.Files, f)
		case err != nil:
			return Drift{}, fmt.Errorf("router %q: %w", r.Host(), err)
		case !bytes.Equal(have, f.Data):
			d.Files = append(d.Files, f)
		}
	}
	stale, err := staleFiles(ctx, r, c)
	if err != nil {
		return Drift{}, err
	}
	d.StaleFiles = stale
	running, err := Running(ctx, r)
	if err != nil {
		return Drift{}, err
	}
	d.Installed = slices.ContainsFunc(running, func(cmd Command) bool {
		return hasPrefix(cmd.Path, []string{"interfaces", "openvpn"}) || hasPrefix(cmd.Path, []string{"interfaces", "wireguard"})
	})
	d.Commands = Diff(c, running)
	return d, nil
}

// Script returns the vbash script that sends cmds in one commit. A failed set
// or delete discards the session before anything is committed; a failed
// commit is discarded by the final "exit discard". A failed save prints
// "planetstage: save failed", and the last line prints "planetstage: end of
// script", so that a session cut short is not taken for a success.
func Script(cmds []Command, confirmMinutes int) string {
	var b strings.Builder
	b.WriteString(scriptTemplate + "\nconfigure\nok=1\n")
	for _, c := range cmds {
		b.WriteString(c.String() + " || ok=\n")
	}
	b.WriteString(`if [ -z "$ok" ]; then echo '` + outAborted + `; discarding'; exit discard; exit 1; fi` + "\n")
	if confirmMinutes > 0 {
		// VyOS asks "Proceed? [Y/n]" and reads the answer from the script.
		b.WriteString("commit-confirm " + strconv.Itoa(confirmMinutes) + "\ny\n")
	} else {
		b.WriteString("commit\n")
	}
	b.WriteString("save || echo '" + outSaveFailed + "'\nexit discard\necho '" + outDone + "'\n")
	return b.String()
}

// Apply writes c's files and sends the commands that differ, in one commit,
// then saves. A commit failure is returned with VyOS's message (secrets
// redacted) and the candidate discarded; "No configuration changes to
// commit" is success.
func Apply(ctx context.Context, r remote.Runner, c *Config, opts Options) error {
	host := r.Host()
	d, err := Inspect(ctx, r, c)
	if err != nil {
		return err
	}
	for _, f := range d.Files {
		if err := r.WriteFile(ctx, f.Path, f.Data, fs.FileMode(f.Mode())); err != nil {
			return fmt.Errorf("router %q: %w", host, err)
		}
	}
	if len(d.Commands) > 0 {
		if err := send(ctx, r, c, d.Commands, opts); err != nil {
			return err
		}
	}
	// Only now does no committed command refer to the stale files.
	return removeFiles(ctx, r, d.StaleFiles)
}

// send commits cmds in one vbash session and interprets VyOS's output. It
// succeeds only when the whole script ran: a non-zero exit, a missing vbash,
// a failed save or a session that ended early is an error. Errors carry the
// tail of the output, secrets redacted, never remote's *ExitError with the
// raw output in it.
func send(ctx context.Context, r remote.Runner, c *Config, cmds []Command, opts Options) error {
	host := r.Host()
	script := Script(cmds, opts.ConfirmMinutes)
	// The script goes on standard input, never on a command line, because
	// it holds key material.
	raw, err := remote.CombinedOutputWithInput(ctx, r, Shell, strings.NewReader(script))
	// cmds, not only c: a delete carries a running (old) key that c no
	// longer has, and VyOS echoes the path of a command it rejects.
	out := redact(raw, c, cmds)
	opts.log().Debug("vyos configure output", "host", host, "output", out)
	var exit *remote.ExitError
	if err != nil && !errors.As(err, &exit) {
		return fmt.Errorf("router %q: configure: %w", host, err)
	}
	if exit != nil {
		// Without the output remote put in it: that is not redacted.
		exit = &remote.ExitError{Host: exit.Host, Command: exit.Command, Status: exit.Status}
	}
	switch {
	case strings.Contains(out, outAborted) || strings.Contains(out, outSetFailed):
		return fmt.Errorf("router %q: set failed, nothing committed%s", host, said(out))
	case strings.Contains(out, outCommitFailed):
		return fmt.Errorf("router %q: commit failed, candidate discarded%s", host, said(out))
	case exit != nil && exit.Status == statusNotFound:
		return fmt.Errorf("router %q: configure: %w: vbash not found; is this a VyOS router?%s", host, exit, said(out))
	case strings.Contains(out, outSaveFailed):
		// A second run would find nothing to commit and so not save either.
		return fmt.Errorf("router %q: committed, but save failed: the change is active but lost at the next reboot; fix what VyOS reports and run \"save\" on the router%s", host, said(out))
	case exit != nil:
		return fmt.Errorf("router %q: configure: %w; the commit may or may not have happened, run it again%s", host, exit, said(out))
	case !strings.Contains(out, outDone):
		return fmt.Errorf("router %q: configure: the session ended before the end of the script; the commit may or may not have happened, run it again%s", host, said(out))
	case strings.Contains(out, outNoChanges):
		return nil
	}
	if opts.ConfirmMinutes > 0 {
		if err := confirm(ctx, r, opts.ConfirmMinutes); err != nil {
			return err
		}
	}
	opts.log().Info("vyos configured", "host", host, "commands", len(cmds))
	return nil
}

// confirm confirms a commit-confirm from a new session, which shows that
// the router is still reachable.
func confirm(ctx context.Context, r remote.Runner, minutes int) error {
	script := scriptTemplate + "\nconfigure\nconfirm || echo '" + outConfirmFailed + "'\nexit\necho '" + outDone + "'\n"
	out, err := remote.CombinedOutputWithInput(ctx, r, Shell, strings.NewReader(script))
	if err == nil && (strings.Contains(out, outConfirmFailed) || !strings.Contains(out, outDone)) {
		err = errors.New("confirm did not complete")
	}
	if err != nil {
		return fmt.Errorf("router %q: confirm after commit-confirm (VyOS rolls back in %d minutes): %w%s", r.Host(), minutes, err, said(out))
	}
	return nil
}

// said is VyOS's output for the end of an error message: ": " and its
// tail, or nothing when it printed nothing.
func said(out string) string {
	if t := tail(out); t != "" {
		return ": " + t
	}
	return ""
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}

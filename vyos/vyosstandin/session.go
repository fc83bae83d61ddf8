package vyosstandin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/planetstage/planetstage/vyos"
)

// Banner is what the stand-in says it is, in "show version" and its log.
const Banner = "planetstage VyOS stand-in (not VyOS): VyOS's configure session for package vyos, realised with Debian's openvpn and ip"

// Router is the stand-in on one machine.
type Router struct {
	// Dialect is the VyOS version the stand-in plays: its command tree
	// and its rendering of openvpn.conf.
	Dialect vyos.Dialect
	// Root prefixes every path the stand-in uses ("" is /): tests point
	// it at a directory of their own.
	Root string
	// System runs ip and the tunnel daemons; nil is this machine's
	// (HostSystem).
	System System
	// Log receives what the stand-in does, secrets redacted; nil discards.
	Log *slog.Logger
	// Self is the command that runs the stand-in (for the rollback timer
	// of commit-confirm); empty is this executable.
	Self []string

	tree *vyos.Tree
}

func (r *Router) init() {
	if r.tree == nil {
		r.tree = vyos.TreeOf(r.Dialect)
	}
	if r.System == nil {
		r.System = HostSystem{Root: r.Root, LogDir: r.path(logDir)}
	}
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
}

// session is one run of a script: vbash's shell state and the configure
// session's candidate.
type session struct {
	r      *Router
	ctx    context.Context
	out    io.Writer
	lines  *bufio.Scanner
	vars   map[string]string
	status int

	template  bool     // the script template was sourced
	inConfig  bool     // in configure mode
	candidate []string // the candidate configuration, in configure mode
	active    []string // the active configuration when configure began
	exited    bool
}

// Run runs a vbash script (what "vbash -s" reads) and returns the shell's
// exit status: the last command's, or exit's argument. Sessions on one
// machine run one at a time.
func (r *Router) Run(ctx context.Context, script io.Reader, out io.Writer) int {
	r.init()
	unlock, err := r.lock()
	if err != nil {
		fmt.Fprintf(out, "vbash: %v\n", err)
		return 1
	}
	defer unlock()
	sc := bufio.NewScanner(script)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	s := &session{r: r, ctx: ctx, out: out, lines: sc, vars: map[string]string{}}
	for !s.exited && sc.Scan() {
		s.line(sc.Text())
	}
	return s.status
}

// lock takes the machine's configuration lock (flock), as VyOS's commit
// lock serialises sessions.
func (r *Router) lock() (func(), error) {
	if err := os.MkdirAll(r.path(stateDir), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(r.path(lockPath), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// line runs one line of the script: "A || B", "if [ -z "$V" ]; then
// ...; fi", "V=value", or a simple command.
func (s *session) line(text string) {
	text = strings.TrimSpace(text)
	if text == "" || strings.HasPrefix(text, "#") {
		return
	}
	if body, ok := strings.CutPrefix(text, "if [ -z "); ok {
		s.ifEmpty(body)
		return
	}
	for i, part := range splitOr(text) {
		if i > 0 && s.status == 0 {
			return
		}
		s.simple(tokenize(part))
		if s.exited {
			return
		}
	}
}

// ifEmpty runs `if [ -z "$V" ]; then CMD; CMD; fi` (what package vyos's
// scripts use to stop after a failed set).
func (s *session) ifEmpty(body string) {
	cond, rest, ok := strings.Cut(body, " ]; then ")
	rest, found := strings.CutSuffix(strings.TrimSpace(rest), "fi")
	if !ok || !found {
		s.fail(2, "vbash: syntax error: %s", body)
		return
	}
	name := strings.Trim(cond, `"$`)
	if s.vars[name] != "" {
		s.status = 0
		return
	}
	for _, part := range splitOutsideQuotes(rest, ";") {
		if part = strings.TrimSpace(part); part != "" {
			s.line(part)
		}
		if s.exited {
			return
		}
	}
}

func (s *session) printf(format string, a ...any) { fmt.Fprintf(s.out, format, a...) }

func (s *session) fail(status int, format string, a ...any) {
	s.printf(format+"\n", a...)
	s.status = status
}

// simple runs one command.
func (s *session) simple(toks []string) {
	if len(toks) == 0 {
		return
	}
	if name, value, ok := strings.Cut(toks[0], "="); ok && len(toks) == 1 && validVar(name) {
		s.vars[name], s.status = value, 0
		return
	}
	switch cmd := toks[0]; {
	case cmd == "source" || cmd == ".":
		if len(toks) == 2 && toks[1] == "/opt/vyatta/etc/functions/script-template" {
			s.template, s.status = true, 0
			return
		}
		s.fail(1, "vbash: %s: No such file or directory", strings.Join(toks[1:], " "))
	case cmd == "echo":
		s.printf("%s\n", strings.Join(toks[1:], " "))
		s.status = 0
	case cmd == "true":
		s.status = 0
	case cmd == "false":
		s.status = 1
	case cmd == "exit":
		s.exit(toks[1:])
	case cmd == "run":
		s.opMode(toks[1:])
	case !s.template:
		s.fail(127, "vbash: %s: command not found", cmd)
	case cmd == "configure":
		s.configure()
	case !s.inConfig:
		s.opMode(toks)
	case cmd == "set" || cmd == "delete":
		s.setOrDelete(cmd == "delete", toks[1:])
	case cmd == "commit":
		s.commit(0)
	case cmd == "commit-confirm":
		s.commitConfirm(toks[1:])
	case cmd == "confirm":
		s.confirm()
	case cmd == "save":
		s.save()
	case cmd == "compare":
		s.compare()
	case cmd == "show":
		s.opMode(toks)
	default:
		s.fail(127, "vbash: %s: command not found", cmd)
	}
}

func validVar(name string) bool {
	return name != "" && strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == ""
}

// exit leaves configure mode ("exit", refused with uncommitted changes;
// "exit discard") or ends the shell ("exit [N]").
func (s *session) exit(args []string) {
	if s.inConfig {
		if len(args) == 0 && !slices.Equal(s.candidate, s.active) {
			s.fail(1, "Cannot exit: configuration modified.\nUse 'exit discard' to discard the changes and exit.")
			return
		}
		if len(args) == 0 || args[0] == "discard" {
			s.inConfig, s.candidate, s.status = false, nil, 0
			s.printf("exit\n")
			return
		}
	}
	s.exited = true
	if len(args) > 0 {
		if n, err := strconv.Atoi(args[0]); err == nil {
			s.status = n
		}
	}
}

func (s *session) configure() {
	if s.inConfig {
		s.status = 0
		return
	}
	active, err := s.r.readCommands(activePath)
	if err != nil {
		s.fail(1, "configure: %v", err)
		return
	}
	s.inConfig, s.active, s.candidate, s.status = true, active, slices.Clone(active), 0
}

// setOrDelete changes the candidate. A set replaces the value of a
// single-valued leaf and adds one to a multi-valued leaf.
func (s *session) setOrDelete(del bool, path []string) {
	shown := vyos.Command{Delete: del, Path: path}
	if del {
		if err := s.r.tree.CheckDelete(path); err != nil {
			s.r.Log.Info("delete rejected", "command", shown.Redacted(), "err", err)
			s.fail(1, "\n  Configuration path: [%s] is not valid\n  Delete failed\n", strings.Join(path, " "))
			return
		}
		prefix := join(path)
		kept := slices.DeleteFunc(slices.Clone(s.candidate), func(l string) bool { return l == prefix || strings.HasPrefix(l, prefix+"\x00") })
		if len(kept) == len(s.candidate) {
			s.fail(1, "\n  Nothing to delete (the specified node does not exist)\n\n  Delete failed\n")
			return
		}
		s.candidate, s.status = kept, 0
		s.r.Log.Debug("delete", "command", shown.Redacted())
		return
	}
	if err := s.r.tree.CheckSet(path); err != nil {
		s.r.Log.Info("set rejected", "command", shown.Redacted(), "err", err)
		if errors.Is(err, vyos.ErrNotInTree) {
			s.fail(1, "\n  Configuration path: [%s] is not valid\n  Set failed\n", strings.Join(path, " "))
		} else {
			s.fail(1, "\n  Value validation failed\n  Set failed\n")
		}
		return
	}
	// VyOS checks that a file a key or certificate leaf names exists
	// (file-path --strict --parent-dir /config/auth).
	if v := path[len(path)-1]; strings.HasPrefix(v, "/config/auth/") {
		if _, err := os.Stat(s.r.path(v)); err != nil {
			s.fail(1, "\n  File %s does not exist\n  Value validation failed\n  Set failed\n", v)
			return
		}
	}
	line := join(path)
	if slices.Contains(s.candidate, line) {
		s.status = 0
		return
	}
	if s.r.tree.Leaf(path) && !s.r.tree.Multi(path) {
		parent := join(path[:len(path)-1]) + "\x00"
		s.candidate = slices.DeleteFunc(s.candidate, func(l string) bool {
			return strings.HasPrefix(l, parent) && !strings.Contains(strings.TrimPrefix(l, parent), "\x00")
		})
	}
	s.candidate, s.status = append(s.candidate, line), 0
	s.r.Log.Debug("set", "command", shown.Redacted())
}

// commit makes the candidate active and realises it; pendingMinutes, when
// not 0, arms commit-confirm's rollback to the configuration before.
func (s *session) commit(pendingMinutes int) {
	active, err := s.r.readCommands(activePath)
	if err != nil {
		s.fail(1, "commit: %v", err)
		return
	}
	if slices.Equal(s.candidate, active) {
		s.fail(1, "No configuration changes to commit")
		return
	}
	if err := vyos.Validate(s.r.Dialect, commands(s.candidate)); err != nil {
		s.r.Log.Info("commit rejected", "err", err)
		s.fail(1, "\n%s\n\nCommit failed", err)
		return
	}
	if err := s.r.Realise(s.ctx, s.candidate); err != nil {
		s.r.Log.Warn("commit failed, realising the previous configuration", "err", err)
		if rerr := s.r.Realise(s.ctx, active); rerr != nil {
			s.r.Log.Error("realising the previous configuration failed", "err", rerr)
		}
		s.fail(1, "\n%s\n\nCommit failed", err)
		return
	}
	if pendingMinutes > 0 {
		if err := s.r.armRollback(active, pendingMinutes); err != nil {
			s.r.Log.Error("commit-confirm: arming the rollback", "err", err)
		}
	}
	if err := s.r.writeCommands(activePath, s.candidate); err != nil {
		s.fail(1, "commit: %v\n\nCommit failed", err)
		return
	}
	warned := map[string]bool{}
	for _, c := range commands(s.candidate) {
		if why, ok := Unrealised[c.Path[0]]; ok && !warned[c.Path[0]] {
			warned[c.Path[0]] = true
			s.printf("WARNING: the VyOS stand-in keeps but does not realise %q: %s\n", c.Path[0], why)
		}
	}
	s.r.Log.Info("committed", "lines", len(s.candidate))
	s.active, s.status = slices.Clone(s.candidate), 0
}

// commitConfirm asks VyOS's question and reads the answer from the script.
func (s *session) commitConfirm(args []string) {
	minutes := 10
	if len(args) > 0 {
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 {
			s.fail(1, "Invalid argument %q: want minutes", args[0])
			return
		}
		minutes = n
	}
	s.printf("WARNING: Reboot will be scheduled in %d minutes if not confirmed.\nProceed ? [Y/n] ", minutes)
	answer := ""
	if s.lines.Scan() {
		answer = strings.TrimSpace(s.lines.Text())
	}
	if answer != "" && !strings.EqualFold(answer, "y") && !strings.EqualFold(answer, "yes") {
		s.fail(1, "\nCommit aborted")
		return
	}
	s.printf("\n")
	s.commit(minutes)
}

func (s *session) confirm() {
	var p pending
	if err := s.r.readJSON(pendingPath, &p); err != nil || p.Deadline.IsZero() {
		s.fail(1, "No confirmation required")
		return
	}
	if err := os.Remove(s.r.path(pendingPath)); err != nil {
		s.fail(1, "confirm: %v", err)
		return
	}
	s.r.Log.Info("commit confirmed")
	s.status = 0
}

func (s *session) save() {
	s.printf("Saving configuration to '%s'...\n", savedPath)
	active, err := s.r.readCommands(activePath)
	if err == nil {
		err = s.r.writeCommands(savedPath, active)
	}
	if err != nil {
		s.fail(1, "Cannot write %s: %v", savedPath, err)
		return
	}
	s.printf("Done\n")
	s.status = 0
}

// compare shows the candidate's difference from the active configuration.
func (s *session) compare() {
	changed := false
	for _, l := range s.active {
		if !slices.Contains(s.candidate, l) {
			s.printf("-%s\n", strings.TrimPrefix(s.r.tree.Show(split(l)), "set "))
			changed = true
		}
	}
	for _, l := range s.candidate {
		if !slices.Contains(s.active, l) {
			s.printf("+%s\n", strings.TrimPrefix(s.r.tree.Show(split(l)), "set "))
			changed = true
		}
	}
	if !changed {
		s.printf("No changes between working and active configurations\n")
	}
	s.status = 0
}

// opMode runs an operational command.
func (s *session) opMode(args []string) {
	switch strings.Join(args, " ") {
	case "show configuration commands":
		active, err := s.r.readCommands(activePath)
		if err != nil {
			s.fail(1, "show configuration: %v", err)
			return
		}
		for _, l := range active {
			s.printf("%s\n", s.r.tree.Show(split(l)))
		}
		s.status = 0
	case "show version":
		s.printf("Version:          VyOS %s (stand-in)\nSystem type:      %s\n", s.r.Dialect, Banner)
		s.status = 0
	default:
		s.fail(1, "\n  Invalid command: [%s]\n", strings.Join(args, " "))
	}
}

// pending is an armed commit-confirm: the configuration to go back to and
// when.
type pending struct {
	Deadline time.Time `json:"deadline"`
	Previous []string  `json:"previous"`
}

// splitOr splits "A || B" outside quotes.
func splitOr(line string) []string { return splitOutsideQuotes(line, "||") }

// splitOutsideQuotes splits line at every sep outside single quotes.
func splitOutsideQuotes(line, sep string) []string {
	var parts []string
	inQuote, start := false, 0
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\'':
			inQuote = !inQuote
		case !inQuote && strings.HasPrefix(line[i:], sep):
			parts = append(parts, strings.TrimSpace(line[start:i]))
			start = i + len(sep)
			i += len(sep) - 1
		}
	}
	return append(parts, strings.TrimSpace(line[start:]))
}

// tokenize splits a command on blanks, keeping single- and double-quoted
// words whole (without their quotes).
func tokenize(line string) []string {
	var toks []string
	var cur strings.Builder
	var quote rune
	have := false
	for _, c := range line {
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(c)
		case c == '\'' || c == '"':
			quote, have = c, true
		case c == ' ' || c == '\t':
			if have {
				toks = append(toks, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(c)
			have = true
		}
	}
	if have {
		toks = append(toks, cur.String())
	}
	return toks
}

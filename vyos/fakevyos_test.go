package vyos

// This file is a test stand-in for a VyOS router: an SSH server (x/crypto/ssh,
// in process, on 127.0.0.1) whose exec handler behaves like VyOS's vbash with
// the configure script template, for the commands planetstage sends. Its
// outputs are the formats quoted in the reference (Set failed, Commit failed,
// No configuration changes to commit, the commit-confirm prompt, "show
// configuration commands" with leaf values single-quoted). It is NOT VyOS:
// what VyOS's commit scripts would reject beyond the schema is only what a
// test injects.

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

type fakeVyOS struct {
	dialect Dialect

	mu        sync.Mutex
	running   []string // active config, tokens joined by spaces
	saved     []string
	files     map[string]fakeFile
	scripts   []string // every vbash script received
	confirmed int      // "confirm" commands
	pending   bool     // commit-confirm not yet confirmed

	clientKey ssh.PublicKey // the only key allowed to log in as vyos

	// Injected faults: a set whose path contains rejectSet fails; a delete
	// whose path contains rejectDelete fails, echoing the path as VyOS does
	// for a set; a commit whose candidate has a line containing failCommit
	// fails; lines containing hide are left out of "show configuration
	// commands".
	rejectSet, rejectDelete, failCommit, hide string
	// Faults of the session rather than the configuration: noVbash makes a
	// configure session find no vbash (as if it vanished after the
	// read-back); failSave makes save fail and failConfirm confirm; stopAfter ends a session after
	// the first script line starting with it, with exit status stopStatus
	// (-1: the connection drops before any status); exitStatus is the
	// status of a configure session that ran to its end.
	noVbash, failSave, failConfirm bool
	stopAfter                      string
	stopStatus, exitStatus         int
}

type fakeFile struct {
	data []byte
	mode string
}

func newFakeVyOS(d Dialect) *fakeVyOS { return &fakeVyOS{dialect: d, files: map[string]fakeFile{}} }

// serve starts the SSH server and returns its address and host key.
func (f *fakeVyOS) serve(t *testing.T) (string, ssh.PublicKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		if c.User() == "vyos" && f.clientKey != nil && bytes.Equal(key.Marshal(), f.clientKey.Marshal()) {
			return nil, nil
		}
		return nil, fmt.Errorf("denied")
	}}
	cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.handleConn(c, cfg)
		}
	}()
	return ln.Addr().String(), signer.PublicKey()
}

func (f *fakeVyOS) handleConn(c net.Conn, cfg *ssh.ServerConfig) {
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "no")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer ch.Close()
			for req := range creqs {
				if req.Type != "exec" {
					_ = req.Reply(false, nil)
					continue
				}
				var p struct{ Command string }
				_ = ssh.Unmarshal(req.Payload, &p)
				_ = req.Reply(true, nil)
				status := f.exec(p.Command, ch, ch)
				if status >= 0 {
					_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(status)}))
				}
				return
			}
		}()
	}
}

// exec runs one exec request. remote.SSH sends every command as
// "/bin/sh -c WRAPPER TOKEN COMMAND"; the fake takes COMMAND out and
// answers the few commands planetstage sends a VyOS router: the vbash
// script, remote.SSH's write and read scripts, and rm -f.
func (f *fakeVyOS) exec(cmd string, in io.Reader, out io.Writer) int {
	if toks := shellWords(cmd); len(toks) == 5 && toks[0] == "/bin/sh" && toks[1] == "-c" {
		cmd = toks[4]
	}
	first, _, _ := strings.Cut(cmd, "\n")
	switch {
	case cmd == Shell:
		script, _ := io.ReadAll(in)
		f.mu.Lock()
		missing := f.noVbash && strings.Contains(string(script), "\nconfigure\n")
		f.mu.Unlock()
		if missing {
			fmt.Fprintf(out, "/bin/sh: 1: /bin/vbash: not found\n")
			return 127
		}
		return f.vbash(string(script), out)
	case strings.HasPrefix(cmd, "f=") && strings.Contains(cmd, `cat >"$t"`): // remote.SSH WriteFile
		var path, mode string
		for _, w := range shellWords(first) {
			if v, ok := strings.CutPrefix(w, "f="); ok {
				path = v
			}
			if v, ok := strings.CutPrefix(w, "m="); ok {
				mode = v
			}
		}
		data, _ := io.ReadAll(in)
		f.mu.Lock()
		f.files[path] = fakeFile{data: data, mode: mode}
		f.mu.Unlock()
		return 0
	case strings.HasPrefix(cmd, "f=") && strings.Contains(cmd, "exec cat"): // remote.SSH ReadFile
		path := strings.TrimPrefix(shellWords(first)[0], "f=")
		f.mu.Lock()
		file, ok := f.files[path]
		f.mu.Unlock()
		if !ok {
			return 3 // remote.SSH's "no such file"
		}
		_, _ = out.Write(file.data)
		return 0
	case strings.HasPrefix(cmd, "ls -1 -- "):
		dir := strings.Fields(cmd)[3]
		f.mu.Lock()
		listed := map[string]bool{}
		for p := range f.files {
			// As ls(1): files and the directories files are in.
			if name, ok := strings.CutPrefix(p, dir); ok && !listed[strings.Split(name, "/")[0]] {
				listed[strings.Split(name, "/")[0]] = true
				fmt.Fprintln(out, strings.Split(name, "/")[0])
			}
		}
		f.mu.Unlock()
		return 0
	case strings.HasPrefix(cmd, "rm -f "):
		f.mu.Lock()
		for _, p := range shellWords(strings.TrimPrefix(cmd, "rm -f ")) {
			delete(f.files, p)
		}
		f.mu.Unlock()
		return 0
	}
	fmt.Fprintf(out, "vbash: %s: command not found\n", cmd)
	return 127
}

// shellWords splits a POSIX shell line of plain and single-quoted words
// (what remote.ShellQuote produces).
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	have, quoted := false, false
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\'':
			quoted, have = !quoted, true
		case r == '\\' && !quoted && i+1 < len(rs):
			i++ // an escaped character, as in '\'' (a quote inside a quoted word)
			cur.WriteRune(rs[i])
			have = true
		case (r == ' ' || r == '\n' || r == '\t') && !quoted:
			if have {
				words = append(words, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		words = append(words, cur.String())
	}
	return words
}

// vbash interprets a configuration script, line by line.
func (f *fakeVyOS) vbash(script string, out io.Writer) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scripts = append(f.scripts, script)
	var candidate []string
	inConfig, ok := false, true
	sc := bufio.NewScanner(strings.NewReader(script))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if f.stopAfter != "" && strings.HasPrefix(line, f.stopAfter) {
			return f.stopStatus
		}
		guarded := strings.HasSuffix(line, " || ok=")
		line = strings.TrimSuffix(line, " || ok=")
		// "CMD || echo 'MSG'": MSG is printed when CMD fails.
		line, onFail, _ := strings.Cut(line, " || echo ")
		onFail = strings.Trim(onFail, "'")
		switch {
		case line == "" || strings.HasPrefix(line, "source /opt/vyatta/etc/functions/script-template"):
		case line == "configure":
			inConfig, candidate = true, append([]string(nil), f.running...)
		case line == "ok=1":
			ok = true
		case strings.HasPrefix(line, `if [ -z "$ok" ]; then echo '`):
			if !ok {
				msg := strings.SplitN(strings.TrimPrefix(line, `if [ -z "$ok" ]; then echo '`), "'", 2)[0]
				fmt.Fprintln(out, msg)
				return 1
			}
		case inConfig && (strings.HasPrefix(line, "set ") || strings.HasPrefix(line, "delete ")):
			toks := tokenize(line)
			var good bool
			candidate, good = f.setOrDelete(candidate, toks[0] == "delete", toks[1:], out)
			if !good && guarded {
				ok = false
			}
		case inConfig && (line == "commit" || strings.HasPrefix(line, "commit-confirm ")):
			if strings.HasPrefix(line, "commit-confirm ") {
				fmt.Fprintf(out, "WARNING: System will reboot in %s minutes if not confirmed.\nProceed ? [Y/n] ", strings.TrimPrefix(line, "commit-confirm "))
				if !sc.Scan() || strings.TrimSpace(sc.Text()) != "y" {
					fmt.Fprintln(out, "\nCommit aborted")
					return 1
				}
			}
			switch {
			case strings.Join(candidate, "\n") == strings.Join(f.running, "\n"):
				fmt.Fprintln(out, outNoChanges)
			case f.failCommit != "" && containsLine(candidate, f.failCommit):
				var bad string
				for _, l := range candidate {
					if strings.Contains(l, f.failCommit) {
						bad = l
					}
				}
				fmt.Fprintf(out, "\n[ %s ]\nVyOS rejected: %s\n\n[[%s]] failed\n%s\n", bad, bad, bad, outCommitFailed)
			default:
				f.running = candidate
				f.pending = strings.HasPrefix(line, "commit-confirm ")
			}
		case inConfig && line == "confirm" && f.failConfirm:
			fmt.Fprintln(out, "No confirmation required")
			if onFail != "" {
				fmt.Fprintln(out, onFail)
			}
		case inConfig && line == "confirm":
			f.confirmed++
			f.pending = false
		case line == "save" && f.failSave:
			fmt.Fprintln(out, "Saving configuration to '/config/config.boot'...\nCannot write /config/config.boot: No space left on device")
			if onFail != "" {
				fmt.Fprintln(out, onFail)
			}
		case line == "save":
			fmt.Fprintln(out, "Saving configuration to '/config/config.boot'...\nDone")
			f.saved = append([]string(nil), f.running...)
		case strings.HasPrefix(line, "echo '"):
			fmt.Fprintln(out, strings.Trim(strings.TrimPrefix(line, "echo "), "'"))
		case line == "exit discard" || line == "exit":
			inConfig, candidate = false, nil
		case line == "exit 1":
			return 1
		case line == "run show configuration commands":
			for _, l := range f.running {
				if f.hide == "" || !strings.Contains(l, f.hide) {
					fmt.Fprintln(out, "set "+f.showQuoted(strings.Fields(l)))
				}
			}
		default:
			fmt.Fprintf(out, "vbash: %s: command not found\n", strings.Fields(line)[0])
			if guarded {
				ok = false
			}
		}
	}
	if strings.Contains(script, "\nconfigure\n") {
		return f.exitStatus
	}
	return 0
}

func containsLine(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

// setOrDelete applies one command to the candidate. A set replaces the value
// of a single-valued leaf and adds to a multi-valued one.
func (f *fakeVyOS) setOrDelete(candidate []string, del bool, path []string, out io.Writer) ([]string, bool) {
	key := strings.Join(path, " ")
	if del {
		if f.rejectDelete != "" && strings.Contains(key, f.rejectDelete) {
			fmt.Fprintf(out, "\n  Configuration path: [%s] is not valid\n  Delete failed\n", key)
			return candidate, false
		}
		var kept []string
		found := false
		for _, l := range candidate {
			if l == key || strings.HasPrefix(l, key+" ") {
				found = true
				continue
			}
			kept = append(kept, l)
		}
		if !found {
			fmt.Fprintf(out, "\n  Nothing to delete (the specified node does not exist)\n\n  Delete failed\n")
			return candidate, false
		}
		return kept, true
	}
	// VyOS checks that a referenced file exists (file-path --strict).
	missing := false
	if v := path[len(path)-1]; strings.HasPrefix(v, "/config/auth/") {
		_, exists := f.files[v]
		missing = !exists
	}
	if err := checkPath(schema(f.dialect), path); err != nil || missing || (f.rejectSet != "" && strings.Contains(key, f.rejectSet)) {
		fmt.Fprintf(out, "\n  Configuration path: [%s] is not valid\n  %s\n", key, outSetFailed)
		return candidate, false
	}
	if valueOfSingleLeaf(schema(f.dialect), path) {
		parent := strings.Join(path[:len(path)-1], " ") + " "
		var kept []string
		for _, l := range candidate {
			if !strings.HasPrefix(l, parent) || strings.Count(l, " ") != strings.Count(key, " ") {
				kept = append(kept, l)
			}
		}
		candidate = kept
	}
	for _, l := range candidate {
		if l == key {
			return candidate, true
		}
	}
	return append(candidate, key), true
}

// showQuoted renders a path as "show configuration commands" does: leaf
// values single-quoted, tag values and valueless leaves bare.
func (f *fakeVyOS) showQuoted(path []string) string {
	n := schema(f.dialect)
	out := make([]string, len(path))
	for i := 0; i < len(path); i++ {
		out[i] = path[i]
		c, ok := n.children[path[i]]
		if !ok {
			continue
		}
		n = c
		switch n.kind {
		case tag:
			if i+1 < len(path) {
				i++
				out[i] = path[i]
			}
		case leaf:
			if i+1 < len(path) {
				i++
				out[i] = "'" + path[i] + "'"
			}
		}
	}
	return strings.Join(out, " ")
}

// valueOfSingleLeaf reports whether path's last token is the value of a
// single-valued leaf.
func valueOfSingleLeaf(root *node, path []string) bool {
	n, ok := leafOf(root, path)
	return ok && !n.multi
}

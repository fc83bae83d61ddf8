package vyosstandin

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/planetstage/planetstage/vyos"
)

// Files the stand-in keeps, relative to Router.Root.
const (
	savedPath    = "/config/config.boot"
	stateDir     = "/run/vyos-standin"
	activePath   = stateDir + "/active.commands"
	realisedPath = stateDir + "/realised.json"
	pendingPath  = stateDir + "/commit-confirm.json"
	lockPath     = stateDir + "/lock"
	openvpnDir   = "/run/openvpn"
	logDir       = "/var/log/vyos-standin"
)

func (r *Router) path(p string) string { return filepath.Join(r.Root, filepath.FromSlash(p)) }

// readCommands reads a file of set commands, one a line; a missing file is
// an empty configuration.
func (r *Router) readCommands(p string) ([]string, error) {
	data, err := os.ReadFile(r.path(p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		cmds := vyos.ParseCommands(sc.Text())
		if len(cmds) == 1 {
			lines = append(lines, strings.Join(cmds[0].Path, "\x00"))
		}
	}
	return lines, sc.Err()
}

// writeCommands writes lines as set commands, 0600 (they hold keys),
// through a temporary file renamed into place.
func (r *Router) writeCommands(p string, lines []string) error {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(r.tree.Show(split(l)) + "\n")
	}
	return r.writeFile(p, []byte(b.String()), 0o600)
}

func (r *Router) writeFile(p string, data []byte, mode os.FileMode) error {
	full := r.path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	tmp := full + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, mode)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", p, err)
	}
	return os.Rename(tmp, full)
}

func (r *Router) readJSON(p string, v any) error {
	data, err := os.ReadFile(r.path(p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

func (r *Router) writeJSON(p string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return r.writeFile(p, data, 0o600)
}

// A configuration line is its path's tokens joined by NUL (no token holds
// one), so that tokens with blanks survive.
func join(path []string) string  { return strings.Join(path, "\x00") }
func split(line string) []string { return strings.Split(line, "\x00") }

func commands(lines []string) []vyos.Command {
	out := make([]vyos.Command, len(lines))
	for i, l := range lines {
		out[i] = vyos.Command{Path: split(l)}
	}
	return out
}

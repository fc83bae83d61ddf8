package secret

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/planetstage/planetstage/internal/atomicfile"
)

// Modes of what a Dir creates.
const (
	dirMode    fs.FileMode = 0o700
	secretMode fs.FileMode = 0o600
	publicMode fs.FileMode = 0o644
)

// Dir is a Store in a local directory: the directory and its
// subdirectories 0700, secret files 0600, others 0644; every write atomic
// and durable (a reader sees the old contents or the new, and the new
// survive a crash once Write returns). A Dir is safe for concurrent use.
type Dir struct {
	root string
	mu   sync.Mutex
	// creating serialises LoadOrCreate per name, so two steps that need the
	// same CA generate it once.
	creating map[string]*sync.Mutex
}

// NewDir returns the Dir at root without touching the disk: root is
// created (0700) by the first Write. For a program or test that wants a
// store in one expression; OpenDir reports a bad root at once.
func NewDir(root string) *Dir {
	return &Dir{root: root, creating: map[string]*sync.Mutex{}}
}

// OpenDir returns the Dir at root, creating root (and missing parents)
// 0700 if it is missing, so that a directory that cannot be used fails
// here rather than at the first key. An existing directory's mode is never
// changed — root may be a directory the user keeps other things in, their
// home even. One that others can write (group or world, 0022) is an error
// that says so, for its owner to tighten or to replace with a new
// directory: whoever can write it can put their own key or a symbolic link
// in place of one. One that others can only read is used as it is: they
// see names, not secrets, which are 0600 in subdirectories made 0700.
func OpenDir(root string) (*Dir, error) {
	info, err := os.Stat(root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(root, dirMode); err != nil {
			return nil, err
		}
		return NewDir(root), nil
	case err != nil:
		return nil, err
	case !info.IsDir():
		return nil, fmt.Errorf("%s is not a directory", root)
	}
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		return nil, fmt.Errorf("%s has mode %#o: others can write it, so they could replace the keys kept there, and it is not changed for you: "+
			"if it is meant for secrets, chmod 700 %s; else name a new directory, which is created 0700", root, perm, root)
	}
	return NewDir(root), nil
}

// Root is the directory.
func (d *Dir) Root() string { return d.root }

// Path is the file that holds name. Empty and absolute names and names that
// leave the directory ("../x", "a/../../x") are errors.
func (d *Dir) Path(name string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(name))
	if name == "" || filepath.IsAbs(clean) || clean == "." || clean == ".." ||
		strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%q is not a name inside %s", name, d.root)
	}
	return filepath.Join(d.root, clean), nil
}

// Read implements Store: the contents of name; a missing name matches
// fs.ErrNotExist.
func (d *Dir) Read(name string) ([]byte, error) {
	p, err := d.Path(name)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

// Write implements Store: it replaces name atomically and durably, 0600
// when secret, else 0644, creating missing directories 0700.
func (d *Dir) Write(name string, data []byte, secret bool) error {
	p, err := d.Path(name)
	if err != nil {
		return err
	}
	mode := publicMode
	if secret {
		mode = secretMode
	}
	if err := os.MkdirAll(filepath.Dir(p), dirMode); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := atomicfile.Write(p, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// Remove deletes name; a missing name is not an error.
func (d *Dir) Remove(name string) error {
	p, err := d.Path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// LoadOrCreate returns the contents of name, calling create to make them
// (and storing the result, 0600 when secret) when name does not exist yet.
// Concurrent callers for the same name get the same contents: create runs
// once. An error from create is returned and nothing is stored.
func (d *Dir) LoadOrCreate(name string, secret bool, create func() ([]byte, error)) ([]byte, error) {
	d.mu.Lock()
	m, ok := d.creating[name]
	if !ok {
		m = new(sync.Mutex)
		d.creating[name] = m
	}
	d.mu.Unlock()
	m.Lock()
	defer m.Unlock()
	data, err := d.Read(name)
	if err == nil {
		return data, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	data, err = create()
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	if err := d.Write(name, data, secret); err != nil {
		return nil, err
	}
	return data, nil
}

var _ Store = (*Dir)(nil)

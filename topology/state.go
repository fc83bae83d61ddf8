package topology

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

// State is a topology's state directory: generated material (VPN keys and
// certificates, the cluster's CAs and tokens) and records of what was
// created where. It is what makes a second apply change nothing. The
// directory is 0700, secret files 0600, and every write is atomic. A State is
// safe for concurrent use.
type State struct {
	dir string
	mu  sync.Mutex
	// creating serialises LoadOrCreate per name, so two steps that need the
	// same CA generate it once.
	creating map[string]*sync.Mutex
}

// DefaultStateDir is where a topology's state lives unless the caller says
// otherwise: $XDG_STATE_HOME/planetstage/NAME, else
// ~/.local/state/planetstage/NAME.
func DefaultStateDir(name string) (string, error) {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("state: no state directory: %w", err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "planetstage", name), nil
}

// OpenState opens the state directory dir, creating it (0700) if needed,
// and tightens its mode if it is looser.
func OpenState(dir string) (*State, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return &State{dir: dir, creating: make(map[string]*sync.Mutex)}, nil
}

// Dir is the state directory.
func (s *State) Dir() string { return s.dir }

// Path is the file name under the state directory for name.
func (s *State) Path(name string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(name))
	if name == "" || filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("state: %q is not a name inside the state directory", name)
	}
	return filepath.Join(s.dir, clean), nil
}

// Read returns the contents of name; a missing name matches fs.ErrNotExist.
func (s *State) Read(name string) ([]byte, error) {
	p, err := s.Path(name)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return data, nil
}

// Write stores data under name atomically: 0600 when secret, else 0644.
// Subdirectories are created 0700.
func (s *State) Write(name string, data []byte, secret bool) error {
	p, err := s.Path(name)
	if err != nil {
		return err
	}
	mode := fs.FileMode(0o644)
	if secret {
		mode = 0o600
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if err := atomicfile.Write(p, data, mode); err != nil {
		return fmt.Errorf("state: write %s: %w", name, err)
	}
	return nil
}

// Remove deletes name; a missing name is not an error.
func (s *State) Remove(name string) error {
	p, err := s.Path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// LoadOrCreate returns the contents of name, calling create to make them
// (and storing the result) when name does not exist yet. Concurrent callers
// for the same name get the same contents: create runs once.
func (s *State) LoadOrCreate(name string, secret bool, create func() ([]byte, error)) ([]byte, error) {
	s.mu.Lock()
	m, ok := s.creating[name]
	if !ok {
		m = new(sync.Mutex)
		s.creating[name] = m
	}
	s.mu.Unlock()
	m.Lock()
	defer m.Unlock()
	data, err := s.Read(name)
	if err == nil {
		return data, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	data, err = create()
	if err != nil {
		return nil, fmt.Errorf("state: create %s: %w", name, err)
	}
	if err := s.Write(name, data, secret); err != nil {
		return nil, err
	}
	return data, nil
}

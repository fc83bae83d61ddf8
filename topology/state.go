package topology

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/planetstage/planetstage/secret"
)

// State is a topology's state directory: generated material (VPN keys and
// certificates, the cluster's CAs and tokens) and records of what was
// created where. It is what makes a second apply change nothing. It is a
// secret.Dir, so it is a secret.Store: the directory is created 0700
// (an existing one keeps its mode, and is refused if others can write
// it), secret files 0600, every write atomic and durable, and names stay inside it. A State
// is safe for concurrent use.
type State struct {
	dir *secret.Dir
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

// OpenState opens the state directory dir, creating it (0700) if needed.
// An existing directory's mode is left alone; one that others can read or
// write is refused (see secret.OpenDir).
func OpenState(dir string) (*State, error) {
	d, err := secret.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return &State{dir: d}, nil
}

// Dir is the state directory.
func (s *State) Dir() string { return s.dir.Root() }

// Path is the file name under the state directory for name.
func (s *State) Path(name string) (string, error) {
	p, err := s.dir.Path(name)
	if err != nil {
		return "", fmt.Errorf("state: %w", err)
	}
	return p, nil
}

// Read returns the contents of name; a missing name matches fs.ErrNotExist.
func (s *State) Read(name string) ([]byte, error) {
	data, err := s.dir.Read(name)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return data, nil
}

// Write stores data under name atomically: 0600 when secret, else 0644.
// Subdirectories are created 0700.
func (s *State) Write(name string, data []byte, secret bool) error {
	if err := s.dir.Write(name, data, secret); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// Remove deletes name; a missing name is not an error.
func (s *State) Remove(name string) error {
	if err := s.dir.Remove(name); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// LoadOrCreate returns the contents of name, calling create to make them
// (and storing the result) when name does not exist yet. Concurrent callers
// for the same name get the same contents: create runs once.
func (s *State) LoadOrCreate(name string, secret bool, create func() ([]byte, error)) ([]byte, error) {
	data, err := s.dir.LoadOrCreate(name, secret, create)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return data, nil
}

var _ secret.Store = (*State)(nil)

package topology

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"

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
	// dry, when set, keeps every change in memory (see DryRun).
	dry *dryState
}

// dryState is what a DryRun view changed: written contents by name, and
// names it removed.
type dryState struct {
	mu      sync.Mutex
	written map[string][]byte
	removed map[string]bool
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

// DryRun returns a view of the same directory that reads what is there but
// keeps every change in memory: what a plan or a render would generate
// (VPN keys, certificates, cluster CAs) exists for as long as the view and
// never reaches the disk. Plans and renders use it, so that looking at a
// topology writes no private key; an apply uses the State itself.
func (s *State) DryRun() *State {
	if s.dry != nil {
		return s
	}
	return &State{dir: s.dir, dry: &dryState{written: map[string][]byte{}, removed: map[string]bool{}}}
}

// IsDryRun tells whether s is a DryRun view.
func (s *State) IsDryRun() bool { return s.dry != nil }

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
	if s.dry != nil {
		s.dry.mu.Lock()
		defer s.dry.mu.Unlock()
		return s.dryRead(name)
	}
	data, err := s.dir.Read(name)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return data, nil
}

// Write stores data under name atomically: 0600 when secret, else 0644.
// Subdirectories are created 0700.
func (s *State) Write(name string, data []byte, secret bool) error {
	if s.dry != nil {
		if _, err := s.dir.Path(name); err != nil {
			return fmt.Errorf("state: %w", err)
		}
		s.dry.mu.Lock()
		defer s.dry.mu.Unlock()
		s.dry.written[name] = slices.Clone(data)
		delete(s.dry.removed, name)
		return nil
	}
	if err := s.dir.Write(name, data, secret); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// Remove deletes name; a missing name is not an error.
func (s *State) Remove(name string) error {
	if s.dry != nil {
		if _, err := s.dir.Path(name); err != nil {
			return fmt.Errorf("state: %w", err)
		}
		s.dry.mu.Lock()
		defer s.dry.mu.Unlock()
		delete(s.dry.written, name)
		s.dry.removed[name] = true
		return nil
	}
	if err := s.dir.Remove(name); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// LoadOrCreate returns the contents of name, calling create to make them
// (and storing the result) when name does not exist yet. Concurrent callers
// for the same name get the same contents: create runs once.
func (s *State) LoadOrCreate(name string, secret bool, create func() ([]byte, error)) ([]byte, error) {
	if s.dry != nil {
		s.dry.mu.Lock()
		defer s.dry.mu.Unlock()
		data, err := s.dryRead(name)
		if !errors.Is(err, fs.ErrNotExist) {
			return data, err
		}
		if data, err = create(); err != nil {
			return nil, err
		}
		s.dry.written[name] = slices.Clone(data)
		delete(s.dry.removed, name)
		return data, nil
	}
	data, err := s.dir.LoadOrCreate(name, secret, create)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return data, nil
}

// dryRead reads name as a DryRun view sees it; s.dry.mu is held.
func (s *State) dryRead(name string) ([]byte, error) {
	if data, ok := s.dry.written[name]; ok {
		return slices.Clone(data), nil
	}
	if s.dry.removed[name] {
		if _, err := s.dir.Path(name); err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
		return nil, fmt.Errorf("state: %s: %w", name, fs.ErrNotExist)
	}
	data, err := s.dir.Read(name)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return data, nil
}

var _ secret.Store = (*State)(nil)

package kubeadm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// Member is a node that joined the cluster, as recorded in the Store.
type Member struct {
	Name         string `json:"name"`
	Address      string `json:"address"`
	ControlPlane bool   `json:"controlPlane"`
}

// Members returns the nodes recorded as joined, sorted by name.
func (b *Bootstrapper) Members() ([]Member, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.readMembers()
}

func (b *Bootstrapper) readMembers() ([]Member, error) {
	raw, err := b.Store.Read(storeMembers)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	var ms []Member
	if err := json.Unmarshal(raw, &ms); err != nil {
		return nil, fmt.Errorf("members: %s is not valid JSON: %w", storeMembers, err)
	}
	return ms, nil
}

func (b *Bootstrapper) writeMembers(ms []Member) error {
	slices.SortFunc(ms, func(a, c Member) int { return strings.Compare(a.Name, c.Name) })
	raw, err := json.MarshalIndent(ms, "", "  ")
	if err != nil {
		return err
	}
	if err := b.Store.Write(storeMembers, append(raw, '\n'), false); err != nil {
		return fmt.Errorf("members: %w", err)
	}
	return nil
}

func (b *Bootstrapper) recordMember(m Member) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	ms, err := b.readMembers()
	if err != nil {
		return err
	}
	ms = slices.DeleteFunc(ms, func(x Member) bool { return x.Name == m.Name })
	return b.writeMembers(append(ms, m))
}

func (b *Bootstrapper) forgetMember(name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	ms, err := b.readMembers()
	if err != nil {
		return err
	}
	return b.writeMembers(slices.DeleteFunc(ms, func(x Member) bool { return x.Name == name }))
}

// Departed returns the recorded members that are no longer in the Cluster:
// the nodes Remove should take out.
func (b *Bootstrapper) Departed() ([]Member, error) {
	ms, err := b.Members()
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(ms, func(m Member) bool {
		_, _, in := b.Cluster.Node(m.Name)
		return in
	}), nil
}

package vyos

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotInTree marks a CheckSet or CheckDelete error about the path itself
// (a node the tree does not have, a value where none is taken, a path that
// ends early), as opposed to a value the tree does not accept: VyOS says
// "Configuration path: [...] is not valid" for the first and "Value
// validation failed" for the second.
var ErrNotInTree = errors.New("not in the command tree")

// pathError wraps err in ErrNotInTree when it is about the path.
func pathError(err error) error {
	if err == nil {
		return nil
	}
	for _, s := range []string{"unknown node", "has no children", "takes no value", "incomplete command", "needs a value", "takes exactly one value", "takes one value"} {
		if strings.Contains(err.Error(), s) {
			return fmt.Errorf("%w: %w", ErrNotInTree, err)
		}
	}
	return err
}

// Tree is a dialect's command tree: the schema Validate checks commands
// against, for a program that interprets set and delete commands as a
// VyOS router of that dialect would (the lab's VyOS stand-in,
// vyos/vyosstandin). It knows only the paths planetstage emits; a router
// running it rejects every other path, as VyOS rejects a path outside its
// own tree.
type Tree struct {
	d    Dialect
	root *node
}

// TreeOf returns d's command tree.
func TreeOf(d Dialect) *Tree { return &Tree{d: d, root: schema(d)} }

// Dialect is the tree's dialect.
func (t *Tree) Dialect() Dialect { return t.d }

// CheckSet checks the path of a set command: every node known, every value
// valid, a leaf's value given. Values of secret paths are never quoted in
// the error.
func (t *Tree) CheckSet(path []string) error {
	if err := pathError(checkPath(t.root, path)); err != nil {
		if secretPath(path) && errors.Is(err, ErrNotInTree) {
			return fmt.Errorf("%w: %s: invalid path", ErrNotInTree, strings.Join(path[:len(path)-1], " "))
		}
		if secretPath(path) {
			return fmt.Errorf("%s: invalid secret value", strings.Join(path[:len(path)-1], " "))
		}
		return err
	}
	return nil
}

// CheckDelete checks the path of a delete command: a prefix of a valid set
// path (a node, a tag instance, or a leaf with or without its value).
func (t *Tree) CheckDelete(path []string) error { return pathError(t.checkDelete(path)) }

func (t *Tree) checkDelete(path []string) error {
	if len(path) == 0 {
		return fmt.Errorf("empty path")
	}
	n := t.root
	for i := 0; i < len(path); i++ {
		if n.kind != container && n.kind != tag {
			return fmt.Errorf("%q: %q has no children", strings.Join(path[:i], " "), path[i-1])
		}
		child, ok := n.children[path[i]]
		if !ok {
			return fmt.Errorf("%q: unknown node %q", strings.Join(path[:i+1], " "), path[i])
		}
		n = child
		switch n.kind {
		case valueless:
			if i != len(path)-1 {
				return fmt.Errorf("%q: %q takes no value", strings.Join(path, " "), path[i])
			}
		case leaf:
			if i < len(path)-2 {
				return fmt.Errorf("%q: %q takes one value", strings.Join(path, " "), path[i])
			}
			return nil
		case tag:
			if i+1 < len(path) {
				i++
				if !n.value(path[i]) {
					return fmt.Errorf("%q: value %q of %q: want %s", strings.Join(path[:i], " "), path[i], path[i-1], n.help)
				}
			}
		}
	}
	return nil
}

// Multi reports whether path (a valid set path) ends in a value of a
// multi-valued leaf: a set adds it to the leaf's values rather than
// replacing the value.
func (t *Tree) Multi(path []string) bool { return isMulti(t.root, path) }

// Leaf reports whether path (a valid set path) ends in the value of a leaf
// (multi-valued or not), rather than in a tag value or a valueless leaf.
func (t *Tree) Leaf(path []string) bool {
	_, ok := leafOf(t.root, path)
	return ok
}

// Show renders a set path as "show configuration commands" prints it: leaf
// values single-quoted, tag values and valueless leaves bare.
func (t *Tree) Show(path []string) string {
	n := t.root
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
				out[i] = quote(path[i])
			}
		case leaf:
			if i+1 < len(path) {
				i++
				out[i] = "'" + path[i] + "'"
			}
		}
	}
	return "set " + strings.Join(out, " ")
}

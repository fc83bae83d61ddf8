package topology

import (
	"fmt"

	yaml "go.yaml.in/yaml/v3"
)

// Limits on what Load and Parse read, so that a hostile or broken file is
// refused in about the time it takes to read it, before anything is built
// from it.
const (
	// MaxFileSize is the largest topology file, 16 MiB: a testbed of
	// 200 000 hosts is about 10 MiB, far beyond any real one.
	MaxFileSize = 16 << 20
	// MaxNodes bounds the YAML nodes of a file (keys and values), counting
	// every alias as the nodes of what it stands for. 200 000 hosts are
	// about 1.4 million nodes; beyond two million, decoding would cost
	// gigabytes (issue 19: an anchor of 20 000 hosts referenced by 999
	// sites, 1.2 MB on disk, stands for 140 million nodes).
	MaxNodes = 2_000_000
)

// sizeProblem refuses data beyond MaxFileSize.
func sizeProblem(size int64) *Problem {
	if size <= MaxFileSize {
		return nil
	}
	return &Problem{Message: fmt.Sprintf("is %d bytes; a topology file may be at most %d bytes (16 MiB, topology.MaxFileSize)", size, MaxFileSize)}
}

// nodeCounter counts the nodes a document stands for without expanding
// it: what an anchored node stands for is counted once and remembered, so
// the count costs one pass over the file however often it is aliased.
type nodeCounter struct {
	sizes map[*yaml.Node]int
	// open are the anchored nodes being counted: an alias to one of them
	// is an alias inside what it refers to, which never ends.
	open map[*yaml.Node]bool
}

// aliasProblem walks doc as written and reports the first alias that takes
// the expanded document beyond MaxNodes, or that refers to a node
// containing it, with the alias's line; nil when there is none.
func aliasProblem(doc *yaml.Node) *Problem {
	c := &nodeCounter{sizes: map[*yaml.Node]int{}, open: map[*yaml.Node]bool{}}
	total := 0
	var culprit *Problem
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if culprit != nil {
			return
		}
		if n.Kind == yaml.AliasNode {
			size, cyclic := c.size(n.Alias)
			switch {
			case cyclic:
				culprit = &Problem{Line: n.Line, Message: fmt.Sprintf("alias *%s refers to a node that contains it", n.Value)}
			case total+size > MaxNodes:
				culprit = &Problem{Line: n.Line, Message: fmt.Sprintf(
					"alias *%s expands the document beyond %d nodes (topology.MaxNodes); &%s on line %d stands for %s nodes: write the values out, or share less",
					n.Value, MaxNodes, n.Value, n.Alias.Line, countString(size))}
			}
			total += size
			return
		}
		total++
		if n.Anchor != "" {
			c.open[n] = true
			defer delete(c.open, n)
		}
		for _, child := range n.Content {
			walk(child)
		}
	}
	walk(doc)
	return culprit
}

// size is the expanded node count of n, capped just above MaxNodes so it
// cannot overflow; cyclic reports an alias inside what it refers to.
func (c *nodeCounter) size(n *yaml.Node) (size int, cyclic bool) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if c.open[n] {
		return 0, true
	}
	if s, ok := c.sizes[n]; ok {
		return s, false
	}
	// Only anchored nodes can be aliased, so only they are remembered and
	// only they can be part of a cycle: the maps stay as small as the
	// anchors.
	if n.Anchor != "" {
		c.open[n] = true
		defer delete(c.open, n)
	}
	size = 1
	for _, child := range n.Content {
		s, cyc := c.size(child)
		if cyc {
			return 0, true
		}
		size = min(size+s, MaxNodes+1)
	}
	if n.Anchor != "" {
		c.sizes[n] = size
	}
	return size, false
}

func countString(n int) string {
	if n > MaxNodes {
		return fmt.Sprintf("more than %d", MaxNodes)
	}
	return fmt.Sprint(n)
}

package plan

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Action is what a step would do to reach the desired state.
type Action string

// The actions a step can report.
const (
	Create Action = "create"
	Update Action = "update"
	NoOp   Action = "no-op"
	Delete Action = "delete"
)

// symbol is the one-character prefix plans print, as Terraform does.
func (a Action) symbol() string {
	switch a {
	case Create:
		return "+"
	case Update:
		return "~"
	case Delete:
		return "-"
	default:
		return "="
	}
}

// Change is the result of inspecting a step: what it would do and why, in
// words a person reads in a plan ("VLAN is 10, want 20").
type Change struct {
	Action Action
	Reason string
}

// Step is one unit of work in a plan.
type Step interface {
	// Inspect looks at the real state and reports what Apply would change.
	// It must not change anything.
	Inspect(ctx context.Context) (Change, error)
	// Apply makes the change Inspect reported. The walk calls it only when
	// the action is not NoOp.
	Apply(ctx context.Context, c Change) error
}

// Funcs adapts two functions to a Step.
type Funcs struct {
	InspectFunc func(ctx context.Context) (Change, error)
	ApplyFunc   func(ctx context.Context, c Change) error
}

// Inspect implements Step.
func (f Funcs) Inspect(ctx context.Context) (Change, error) { return f.InspectFunc(ctx) }

// Apply implements Step.
func (f Funcs) Apply(ctx context.Context, c Change) error { return f.ApplyFunc(ctx, c) }

// Node is a step in a graph, with what a plan shows of it.
type Node struct {
	// ID is unique in the graph: "esxi/vm/node03", "routers/vyos01".
	ID string
	// Layer groups steps for filtering ("esxi", "routers", "lb", "cluster").
	Layer string
	// Target names what the step acts on, as a person reads it
	// ("vm node03 on esxi2 (VLAN 30)").
	Target string
	// Deps are the IDs of the steps that must succeed before this one runs.
	Deps []string
	Step Step
}

// Graph is a set of nodes and their dependencies. The zero value is empty
// and ready to use. A Graph is not safe for concurrent modification.
type Graph struct {
	nodes map[string]*Node
}

// Add adds n. It fails on an empty or duplicate ID or a nil step; unknown
// dependencies are reported by Validate, so nodes can be added in any order.
func (g *Graph) Add(n Node) error {
	if n.ID == "" {
		return errors.New("plan: node with empty ID")
	}
	if n.Step == nil {
		return fmt.Errorf("plan: node %q has no step", n.ID)
	}
	if g.nodes == nil {
		g.nodes = make(map[string]*Node)
	}
	if _, dup := g.nodes[n.ID]; dup {
		return fmt.Errorf("plan: duplicate node %q", n.ID)
	}
	n.Deps = slices.Clone(n.Deps)
	g.nodes[n.ID] = &n
	return nil
}

// Len is the number of nodes.
func (g *Graph) Len() int { return len(g.nodes) }

// Node returns the node with id.
func (g *Graph) Node(id string) (Node, bool) {
	n, ok := g.nodes[id]
	if !ok {
		return Node{}, false
	}
	return *n, true
}

// Validate reports dependencies on unknown nodes, self-dependencies and
// cycles, naming them ("cycle: a -> b -> a").
func (g *Graph) Validate() error {
	var errs []error
	for _, id := range g.sortedIDs() {
		for _, dep := range g.nodes[id].Deps {
			if _, ok := g.nodes[dep]; !ok {
				errs = append(errs, fmt.Errorf("plan: node %q depends on unknown node %q", id, dep))
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if cycle := g.findCycle(); cycle != nil {
		return fmt.Errorf("plan: cycle: %s", strings.Join(cycle, " -> "))
	}
	return nil
}

// Sorted returns the nodes in dependency order: every node after all its
// dependencies, ties broken by ID so the order is stable. The graph must be
// valid.
func (g *Graph) Sorted() []Node {
	indegree := make(map[string]int, len(g.nodes))
	dependants := make(map[string][]string, len(g.nodes))
	for id, n := range g.nodes {
		indegree[id] += 0
		for _, dep := range n.Deps {
			indegree[id]++
			dependants[dep] = append(dependants[dep], id)
		}
	}
	// A min-heap of ready IDs keeps the order stable (ties by ID) at
	// n log n; re-sorting a ready list at every pop is quadratic.
	ready := &idHeap{}
	for id, d := range indegree {
		if d == 0 {
			ready.ids = append(ready.ids, id)
		}
	}
	heap.Init(ready)
	out := make([]Node, 0, len(g.nodes))
	for ready.Len() > 0 {
		id := heap.Pop(ready).(string)
		out = append(out, *g.nodes[id])
		for _, next := range dependants[id] {
			if indegree[next]--; indegree[next] == 0 {
				heap.Push(ready, next)
			}
		}
	}
	return out
}

// Filter returns a graph of the nodes keep accepts. Dependencies on nodes
// left out are dropped: the caller asserts that those steps are done (as
// when applying one layer of a testbed whose other layers already exist).
func (g *Graph) Filter(keep func(Node) bool) *Graph {
	out := &Graph{nodes: make(map[string]*Node)}
	for id, n := range g.nodes {
		if keep(*n) {
			c := *n
			out.nodes[id] = &c
		}
	}
	for _, n := range out.nodes {
		n.Deps = slices.DeleteFunc(slices.Clone(n.Deps), func(dep string) bool {
			_, ok := out.nodes[dep]
			return !ok
		})
	}
	return out
}

func (g *Graph) sortedIDs() []string {
	ids := make([]string, 0, len(g.nodes))
	for id := range g.nodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// findCycle returns one cycle as a path that starts and ends with the same
// ID, or nil. Iterative depth-first search, so deep graphs do not grow the
// stack.
func (g *Graph) findCycle() []string {
	const (
		unseen = iota
		onPath
		finished
	)
	state := make(map[string]int, len(g.nodes))
	type frame struct {
		id   string
		next int
	}
	for _, root := range g.sortedIDs() {
		if state[root] != unseen {
			continue
		}
		stack := []frame{{id: root}}
		state[root] = onPath
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			deps := g.nodes[top.id].Deps
			if top.next == len(deps) {
				state[top.id] = finished
				stack = stack[:len(stack)-1]
				continue
			}
			dep := deps[top.next]
			top.next++
			switch state[dep] {
			case onPath:
				var path []string
				for i := range stack {
					if stack[i].id == dep || len(path) > 0 {
						path = append(path, stack[i].id)
					}
				}
				return append(path, dep)
			case unseen:
				state[dep] = onPath
				stack = append(stack, frame{id: dep})
			}
		}
	}
	return nil
}

// idHeap is a min-heap of node IDs for container/heap.
type idHeap struct{ ids []string }

func (h *idHeap) Len() int           { return len(h.ids) }
func (h *idHeap) Less(i, j int) bool { return h.ids[i] < h.ids[j] }
func (h *idHeap) Swap(i, j int)      { h.ids[i], h.ids[j] = h.ids[j], h.ids[i] }
func (h *idHeap) Push(x any)         { h.ids = append(h.ids, x.(string)) }
func (h *idHeap) Pop() any {
	last := h.ids[len(h.ids)-1]
	h.ids = h.ids[:len(h.ids)-1]
	return last
}

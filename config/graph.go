package config

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

type nodeKind int

const (
	nodeVar nodeKind = iota
	nodeLocal
	nodeOutput
	nodeResource
)

// node is one evaluable declaration: a variable, a local value, an output or
// a resource block (with all its instances).
type node struct {
	addr  string
	kind  nodeKind
	rkind string // resource kind
	label string
	decl  int       // declaration index (files sorted by name, then position)
	rng   hcl.Range // definition range

	block *hcl.Block
	attrs hcl.Attributes
	expr  hcl.Expression // locals only
	subs  []*subBlock    // nested blocks (port, ssh, lima, pod container) in source order

	deps     []*node        // referenced nodes, sorted by decl
	implicit map[*node]bool // deps that are evaluation-order edges (evalAfter), not references
	bad      bool           // declaration or reference errors: never evaluated
	failed   bool           // evaluation failed or skipped
}

// subBlock is a block nested in a resource block.
type subBlock struct {
	typ   string // block type: "port", "ssh", "lima", "container"
	block *hcl.Block
	attrs hcl.Attributes
	subs  []*subBlock // blocks nested in it (a pod container's files)
}

// blocksOf returns n's nested blocks of type typ, in source order.
func (n *node) blocksOf(typ string) []*subBlock {
	var out []*subBlock
	for _, b := range n.subs {
		if b.typ == typ {
			out = append(out, b)
		}
	}
	return out
}

type namedExpr struct {
	name string // attribute name; "<block type>.<attr>" for nested blocks
	expr hcl.Expression
}

// exprs returns every expression of n in source order.
func (n *node) exprs() []namedExpr {
	var out []namedExpr
	add := func(prefix string, attrs hcl.Attributes) {
		var list []*hcl.Attribute
		for _, a := range attrs {
			list = append(list, a)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Range.Start.Byte < list[j].Range.Start.Byte })
		for _, a := range list {
			if n.kind == nodeVar && a.Name == "type" {
				continue // a type constraint, not an expression
			}
			out = append(out, namedExpr{prefix + a.Name, a.Expr})
		}
	}
	if n.kind == nodeLocal {
		return []namedExpr{{"value", n.expr}}
	}
	add("", n.attrs)
	for _, b := range n.subs {
		add(b.typ+".", b.attrs)
		for _, c := range b.subs {
			add(b.typ+"."+c.typ+".", c.attrs)
		}
	}
	return out
}

func (n *node) hasAttr(name string) bool {
	_, ok := n.attrs[name]
	return ok
}

// buildGraph resolves the references of every node.
func (l *loader) buildGraph() {
	for _, n := range l.nodes {
		seen := map[*node]bool{}
		for _, ne := range n.exprs() {
			for _, t := range ne.expr.Variables() {
				dep, ok := l.resolveRef(n, ne.name, t)
				if !ok {
					n.bad = true
					continue
				}
				if dep != nil && !seen[dep] {
					seen[dep] = true
					n.deps = append(n.deps, dep)
				}
			}
		}
		// Implicit ordering: a pod_network is evaluated after every
		// network, host and bridge (its default hosts are all hosts, and its
		// cidr must not overlap theirs); a segment after every network and
		// pod_network (cidr overlap, VNI clashes). These edges order the
		// evaluation only; they are not references and not in Lab.Deps.
		if n.kind == nodeResource {
			for _, m := range l.nodes {
				if m != n && m.kind == nodeResource && !seen[m] && slices.Contains(kindDefs[n.rkind].after, m.rkind) {
					seen[m] = true
					n.deps = append(n.deps, m)
					if n.implicit == nil {
						n.implicit = map[*node]bool{}
					}
					n.implicit[m] = true
				}
			}
		}
		sort.Slice(n.deps, func(i, j int) bool { return n.deps[i].decl < n.deps[j].decl })
	}
}

// resolveRef checks one traversal of node n (found in attribute attr) and
// returns the node it refers to (nil for count/each).
func (l *loader) resolveRef(n *node, attr string, t hcl.Traversal) (*node, bool) {
	rng := t.SourceRange()
	root := t.RootName()
	step := func(i int) (string, bool) {
		if len(t) <= i {
			return "", false
		}
		a, ok := t[i].(hcl.TraverseAttr)
		return a.Name, ok
	}
	if n.kind == nodeVar {
		l.errorf(&rng, "Variables not allowed", "A variable's default value cannot refer to %s; it must be a constant.", root)
		return nil, false
	}
	switch root {
	case "var", "local":
		name, ok := step(1)
		if !ok {
			l.errorf(&rng, "Invalid reference", "A reference to %s must be followed by a name, like %s.example.", root, root)
			return nil, false
		}
		dep := l.byAddr[root+"."+name]
		if dep == nil {
			what := "input variable"
			if root == "local" {
				what = "local value"
			}
			l.errorf(&rng, "Reference to undeclared "+what, "A%s %s named %q has not been declared.", an(what), what, name)
			return nil, false
		}
		return dep, true
	case "count", "each":
		meta := "count"
		want := []string{"index"}
		if root == "each" {
			meta = "for_each"
			want = []string{"key", "value"}
		}
		if n.kind != nodeResource || !n.hasAttr(meta) || attr == "count" || attr == "for_each" {
			l.errorf(&rng, fmt.Sprintf("Reference to %q in non-%s context", root, meta),
				"%s.%s can only be used in the arguments of a resource block that sets %s.", root, want[0], meta)
			return nil, false
		}
		name, _ := step(1)
		for _, w := range want {
			if name == w {
				return nil, true
			}
		}
		l.errorf(&rng, "Invalid "+root+" attribute", "The %s object has only the attribute(s) %s.", root, strings.Join(want, " and "))
		return nil, false
	}
	if isResourceKind(root) {
		name, ok := step(1)
		if !ok {
			l.errorf(&rng, "Invalid reference", "A reference to a %s must be followed by its name, like %s.example.", root, root)
			return nil, false
		}
		dep := l.byAddr[root+"."+name]
		if dep == nil {
			l.errorf(&rng, "Reference to undeclared resource", "A %s named %q has not been declared.", root, name)
			return nil, false
		}
		return dep, true
	}
	l.errorf(&rng, "Unknown variable",
		"There is no variable named %q. References start with var., local., count., each. or a resource kind (%s).",
		root, strings.Join(resourceKinds(), ", "))
	return nil, false
}

func an(word string) string {
	if word != "" && (strings.ContainsRune("aeiou", rune(word[0])) || word == "ssh") {
		return "n"
	}
	return ""
}

// order returns the nodes in evaluation order: dependencies first, ties in
// declaration order. Nodes on or behind a reference cycle are reported
// (cycles) and left out.
func (l *loader) order() []*node {
	l.reportCycles()
	// Kahn's algorithm, always picking the earliest-declared ready node.
	remaining := map[*node]int{}
	users := map[*node][]*node{}
	for _, n := range l.nodes {
		remaining[n] = len(n.deps)
		for _, d := range n.deps {
			users[d] = append(users[d], n)
		}
	}
	var ready []*node
	for _, n := range l.nodes {
		if remaining[n] == 0 {
			ready = append(ready, n)
		}
	}
	var out []*node
	for len(ready) > 0 {
		sort.Slice(ready, func(i, j int) bool { return ready[i].decl < ready[j].decl })
		n := ready[0]
		ready = ready[1:]
		out = append(out, n)
		for _, u := range users[n] {
			remaining[u]--
			if remaining[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	return out
}

// reportCycles finds the strongly connected components of the graph and
// reports one cycle in each that has one.
func (l *loader) reportCycles() {
	index := map[*node]int{}
	low := map[*node]int{}
	onStack := map[*node]bool{}
	var stack []*node
	next := 0
	var sccs [][]*node
	var visit func(n *node)
	visit = func(n *node) {
		index[n], low[n] = next, next
		next++
		stack = append(stack, n)
		onStack[n] = true
		for _, d := range n.deps {
			if _, ok := index[d]; !ok {
				visit(d)
				low[n] = min(low[n], low[d])
			} else if onStack[d] {
				low[n] = min(low[n], index[d])
			}
		}
		if low[n] == index[n] {
			var scc []*node
			for {
				m := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[m] = false
				scc = append(scc, m)
				if m == n {
					break
				}
			}
			sccs = append(sccs, scc)
		}
	}
	for _, n := range l.nodes {
		if _, ok := index[n]; !ok {
			visit(n)
		}
	}
	sort.Slice(sccs, func(i, j int) bool { return minDecl(sccs[i]) < minDecl(sccs[j]) })
	for _, scc := range sccs {
		in := map[*node]bool{}
		for _, m := range scc {
			in[m] = true
		}
		start := scc[0]
		for _, m := range scc {
			if m.decl < start.decl {
				start = m
			}
		}
		path := shortestCycle(start, in)
		if path == nil {
			continue
		}
		names := make([]string, len(path))
		for i, m := range path {
			names[i] = m.addr
		}
		names = append(names, start.addr)
		note := ""
		for i, m := range path {
			next := start
			if i+1 < len(path) {
				next = path[i+1]
			}
			if m.implicit[next] {
				note = fmt.Sprintf(" (%s -> %s is not a reference: every %s is evaluated after every %s.)",
					m.addr, next.addr, m.rkind, strings.Replace(orList(kindDefs[m.rkind].after), " or ", " and ", 1))
				break
			}
		}
		l.errorf(&start.rng, "Reference cycle",
			"These declarations refer to each other in a cycle: %s. Break the cycle by removing one of the references.%s",
			strings.Join(names, " -> "), note)
		for _, m := range scc {
			m.bad = true
		}
	}
}

func minDecl(ns []*node) int {
	m := ns[0].decl
	for _, n := range ns {
		m = min(m, n.decl)
	}
	return m
}

// shortestCycle returns the shortest path start -> ... -> (back to start)
// within the nodes in, without the final start; nil when there is none.
func shortestCycle(start *node, in map[*node]bool) []*node {
	prev := map[*node]*node{}
	queue := []*node{start}
	visited := map[*node]bool{}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, d := range n.deps {
			if !in[d] {
				continue
			}
			if d == start {
				var path []*node
				for m := n; m != nil; m = prev[m] {
					path = append([]*node{m}, path...)
					if m == start {
						break
					}
				}
				return path
			}
			if !visited[d] {
				visited[d] = true
				prev[d] = n
				queue = append(queue, d)
			}
		}
	}
	return nil
}

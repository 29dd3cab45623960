// Package graph draws a lab's topology: hosts on their LAN, bridges and
// segments on hosts, guests on bridges, published ports, and the tunnels
// of pod networks and segments. It renders Graphviz dot or Mermaid. Pure.
package graph

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/kinds"
)

type node struct {
	id, label, shape, group string
}

type edge struct {
	from, to, label string
	dashed          bool
}

type model struct {
	nodes  []node
	edges  []edge
	groups map[string]string // host id -> label
}

func id(addr string) string {
	r := strings.NewReplacer(".", "_", "[", "_", "]", "", `"`, "", "/", "_", "-", "_", "@", "_at_")
	return "n_" + r.Replace(addr)
}

func build(lab *config.Lab) model {
	d := kinds.Draw(lab)
	m := model{groups: d.Hosts}
	for _, s := range d.Shapes {
		m.nodes = append(m.nodes, node{id(s.Key), s.Label, s.Form, s.Host})
	}
	for _, l := range d.Lines {
		m.edges = append(m.edges, edge{from: id(l.From), to: id(l.To), label: l.Label, dashed: l.Dashed})
	}
	return m
}

func (m model) hostOrder() []string {
	var hs []string
	for h := range m.groups {
		hs = append(hs, h)
	}
	sort.Strings(hs)
	return hs
}

// Dot writes the lab as a Graphviz graph, one cluster per host.
func Dot(w io.Writer, lab *config.Lab) {
	m := build(lab)
	fmt.Fprintf(w, "graph %q {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n", lab.Name)
	q := func(s string) string { return strings.ReplaceAll(fmt.Sprintf("%q", s), `\n`, `\n`) }
	for i, h := range m.hostOrder() {
		fmt.Fprintf(w, "  subgraph cluster_%d {\n    label=%s;\n    style=rounded;\n", i, q(m.groups[h]))
		for _, n := range m.nodes {
			if n.group == h {
				fmt.Fprintf(w, "    %s [label=%s, shape=%s];\n", n.id, q(n.label), n.shape)
			}
		}
		fmt.Fprintf(w, "  }\n")
	}
	for _, n := range m.nodes {
		if n.group == "" {
			fmt.Fprintf(w, "  %s [label=%s, shape=%s];\n", n.id, q(n.label), n.shape)
		}
	}
	for _, e := range m.edges {
		attrs := []string{}
		if e.label != "" {
			attrs = append(attrs, "label="+q(e.label))
		}
		if e.dashed {
			attrs = append(attrs, "style=dashed", "constraint=false")
		}
		fmt.Fprintf(w, "  %s -- %s", e.from, e.to)
		if len(attrs) > 0 {
			fmt.Fprintf(w, " [%s]", strings.Join(attrs, ", "))
		}
		fmt.Fprintln(w, ";")
	}
	fmt.Fprintln(w, "}")
}

// Mermaid writes the lab as a Mermaid flowchart, one subgraph per host.
func Mermaid(w io.Writer, lab *config.Lab) {
	m := build(lab)
	fmt.Fprintln(w, "flowchart LR")
	lbl := func(s string) string {
		return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `"`, "#quot;"), "\n", "<br/>") + `"`
	}
	for i, h := range m.hostOrder() {
		fmt.Fprintf(w, "  subgraph h%d[%s]\n", i, lbl(m.groups[h]))
		for _, n := range m.nodes {
			if n.group == h {
				fmt.Fprintf(w, "    %s[%s]\n", n.id, lbl(n.label))
			}
		}
		fmt.Fprintln(w, "  end")
	}
	for _, n := range m.nodes {
		if n.group == "" {
			fmt.Fprintf(w, "  %s([%s])\n", n.id, lbl(n.label))
		}
	}
	for _, e := range m.edges {
		arrow := "---"
		if e.dashed {
			arrow = "-.-"
		}
		if e.label != "" {
			fmt.Fprintf(w, "  %s %s|%s| %s\n", e.from, arrow, lbl(e.label), e.to)
		} else {
			fmt.Fprintf(w, "  %s %s %s\n", e.from, arrow, e.to)
		}
	}
}

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
	m := model{groups: map[string]string{}}
	for _, n := range lab.Networks() {
		m.nodes = append(m.nodes, node{id(n.Addr), fmt.Sprintf("%s\n%s", n.Addr, n.CIDR), "ellipse", ""})
	}
	hostName := map[string]string{}
	for _, h := range lab.Hosts() {
		hostName[h.Addr] = h.Name
		m.groups[h.Addr] = fmt.Sprintf("%s (%s)", h.Addr, h.Provider)
		m.nodes = append(m.nodes, node{id(h.Addr), fmt.Sprintf("%s\n%s", h.Addr, h.Address), "box", h.Addr})
		m.edges = append(m.edges, edge{from: id(h.Addr), to: id(h.Network), label: "eth0"})
	}
	for _, b := range lab.Bridges() {
		label := fmt.Sprintf("%s\n%s %s", b.Ifname, b.CIDR, map[bool]string{true: "NAT", false: ""}[b.Masquerade])
		m.nodes = append(m.nodes, node{id(b.Addr), strings.TrimSpace(label), "hexagon", b.Host})
		m.edges = append(m.edges, edge{from: id(b.Addr), to: id(b.Host)})
	}
	ports := func(ps []config.Port) string {
		var s []string
		for _, p := range ps {
			s = append(s, fmt.Sprintf(":%d->%d/%s", p.HostPort, p.Port, p.Protocol))
		}
		return strings.Join(s, " ")
	}
	for _, c := range lab.Containers() {
		if c.Bridge == "" && c.Segment == "" {
			m.nodes = append(m.nodes, node{id(c.Addr), c.Addr, "component", c.Host}) // wired by links alone
			continue
		}
		m.nodes = append(m.nodes, node{id(c.Addr), fmt.Sprintf("%s\n%s", c.Addr, c.Address), "component", c.Host})
		parent := c.Bridge
		if c.Segment != "" {
			parent = c.Segment + "@" + c.Host
		}
		m.edges = append(m.edges, edge{from: id(c.Addr), to: id(parent), label: ports(c.Ports)})
	}
	natDone := map[string]bool{}
	lanBr := map[string]bool{}
	for _, v := range lab.VMs() {
		m.nodes = append(m.nodes, node{id(v.Addr), fmt.Sprintf("%s (%s)\n%s", v.Addr, v.Mode, v.Address), "box3d", v.Host})
		if v.Mode == "bridged" {
			br := "lanbr@" + v.Host
			if !lanBr[v.Host] {
				lanBr[v.Host] = true
				m.nodes = append(m.nodes, node{id(br), "lanbr (bridged)", "hexagon", v.Host})
				m.edges = append(m.edges, edge{from: id(br), to: id(v.Host)})
			}
			m.edges = append(m.edges, edge{from: id(v.Addr), to: id(br)})
			continue
		}
		br := "virbr0@" + v.Host
		if !natDone[v.Host] {
			natDone[v.Host] = true
			for _, h := range lab.Hosts() {
				if h.Addr == v.Host {
					m.nodes = append(m.nodes, node{id(br), fmt.Sprintf("virbr0\n%s NAT", h.NatCIDR), "hexagon", v.Host})
				}
			}
			m.edges = append(m.edges, edge{from: id(br), to: id(v.Host)})
		}
		m.edges = append(m.edges, edge{from: id(v.Addr), to: id(br), label: ports(v.Ports)})
	}
	for _, pn := range lab.PodNetworks() {
		hosts := append([]string{}, pn.Hosts...)
		for _, h := range hosts {
			cni := "cni0@" + h
			m.nodes = append(m.nodes, node{id(cni), fmt.Sprintf("cni0\n%s", pn.Subnets[h]), "hexagon", h})
			m.edges = append(m.edges, edge{from: id(cni), to: id(h)})
		}
		for i := range hosts {
			for j := i + 1; j < len(hosts); j++ {
				label := "host-gw"
				if pn.Backend == "vxlan" {
					label = fmt.Sprintf("vxlan vni %d", pn.VNI)
				}
				m.edges = append(m.edges, edge{from: id(hosts[i]), to: id(hosts[j]), label: label, dashed: true})
			}
		}
	}
	for _, p := range lab.Pods() {
		m.nodes = append(m.nodes, node{id(p.Addr), fmt.Sprintf("%s\n%s", p.Addr, p.Address), "component", p.Host})
		m.edges = append(m.edges, edge{from: id(p.Addr), to: id("cni0@" + p.Host)})
	}
	for _, s := range lab.Segments() {
		for _, h := range s.Hosts {
			sid := s.Addr + "@" + h
			m.nodes = append(m.nodes, node{id(sid), fmt.Sprintf("lns-%s\nVNI %d %s", s.Name, s.VNI, s.CIDR), "hexagon", h})
			m.edges = append(m.edges, edge{from: id(sid), to: id(h)})
		}
		for i := range s.Hosts {
			for j := i + 1; j < len(s.Hosts); j++ {
				m.edges = append(m.edges, edge{from: id(s.Addr + "@" + s.Hosts[i]), to: id(s.Addr + "@" + s.Hosts[j]), label: fmt.Sprintf("vxlan vni %d", s.VNI), dashed: true})
			}
		}
	}
	// Links: a wire between two nodes, its ends' names and addresses on
	// the edge; a tunnel across hosts dashed.
	for _, k := range lab.Links() {
		end := func(e config.Endpoint) string {
			var a []string
			for _, p := range e.Addresses {
				a = append(a, p.String())
			}
			return strings.TrimSpace(e.Ifname + " " + strings.Join(a, ","))
		}
		label := end(k.Ends[0]) + " -- " + end(k.Ends[1])
		if k.CrossHost() {
			label += fmt.Sprintf(" (vxlan vni %d)", k.VNI)
		}
		m.edges = append(m.edges, edge{from: id(k.Ends[0].Node), to: id(k.Ends[1].Node), label: label, dashed: k.CrossHost()})
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

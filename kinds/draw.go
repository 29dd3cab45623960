package kinds

import (
	"sort"

	"github.com/labnet-dev/labnet/config"
)

// Drawing is a lab's topology as shapes and lines, as each kind draws its
// blocks (draws); package graph renders it.
type Drawing struct {
	Lab    *config.Lab
	Shapes []Shape
	Lines  []Line
	Hosts  map[string]string // host address -> its box's label
}

// Shape is one box; Key is an address, or "what@host" for a per-host
// thing that has none (a VM's NAT bridge, a segment's bridge).
type Shape struct {
	Key, Label, Form string // Form: a Graphviz shape name
	Host             string // the host it is drawn in ("" outside any)
}

// Line joins two shapes by key; dashed: a tunnel.
type Line struct {
	From, To, Label string
	Dashed          bool
}

func (d *Drawing) shape(key, label, form, host string) {
	d.Shapes = append(d.Shapes, Shape{key, label, form, host})
}

func (d *Drawing) line(from, to, label string, dashed bool) {
	d.Lines = append(d.Lines, Line{from, to, label, dashed})
}

type drawer struct {
	seq int
	fn  func(*Drawing)
}

var drawers []drawer

// draws registers how a kind's blocks are drawn; seq orders the kinds
// (what is drawn first is listed first).
func draws(seq int, fn func(*Drawing)) { drawers = append(drawers, drawer{seq, fn}) }

// Draw draws a lab.
func Draw(lab *config.Lab) *Drawing {
	d := &Drawing{Lab: lab, Hosts: map[string]string{}}
	ds := append([]drawer(nil), drawers...)
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].seq < ds[j].seq })
	for _, dr := range ds {
		dr.fn(d)
	}
	return d
}

package config

import (
	"reflect"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// kindDef is everything the loader knows of one resource block type. Each
// kind registers its own next to its decoder (registerKind), so the loader
// holds no list or switch of kinds: adding a kind adds a file.
type kindDef struct {
	name   string      // block type: "link"
	seq    int         // place in the language reference (and in Lab.Counts)
	schema blockSchema // its arguments and nested blocks
	// moreBlocks adds nested blocks, at most one of each type, known only
	// once every package has registered what it brings (the hosts'
	// provider blocks).
	moreBlocks func() []nested
	maxName    int // longest instance name (0: MaxNodeName)
	// after lists the kinds whose every instance is evaluated before any of
	// this kind's although it need not refer to them (their addresses,
	// VNIs or ports are taken first).
	after []string
	// node: it has an address of its own, so a process runs on it and a
	// check probes from and to it.
	node bool
	// faults are what `labnet fault` and a scenario step can do to it.
	faults []string
	// collected checks a block once its nested blocks are read, before
	// anything is evaluated (nil: nothing to check).
	collected func(l *loader, n *node)
	decode    func(l *loader, d *dec, n *node, ctx *hcl.EvalContext, res Resource, id cty.Value) (*instance, func())
	// counts says how many of it (and of what it nests) a lab declares;
	// nil: the length of its list.
	counts func(lab *Lab) []Count
}

var kindDefs = map[string]*kindDef{}

// registerKind adds a kind; each kind's file calls it from init.
func registerKind(k kindDef) {
	if _, dup := kindDefs[k.name]; dup {
		panic("config: kind " + k.name + " registered twice")
	}
	if k.maxName == 0 {
		k.maxName = MaxNodeName
	}
	kindDefs[k.name] = &k
}

// fullSchema is the kind's schema with every nested block.
func (k *kindDef) fullSchema() blockSchema {
	s := k.schema
	if k.moreBlocks != nil {
		more := k.moreBlocks()
		s.blocks = append(append([]nested{}, s.blocks...), more...)
		s.single = append([]string{}, s.single...)
		for _, b := range more {
			s.single = append(s.single, b.hdr.Type)
		}
	}
	return s
}

// resourceKinds lists the kinds in the language reference's order.
func resourceKinds() []string {
	var out []string
	for name := range kindDefs {
		out = append(out, name)
	}
	sort.Slice(out, func(i, j int) bool { return kindDefs[out[i]].seq < kindDefs[out[j]].seq })
	return out
}

func isResourceKind(s string) bool { return kindDefs[s] != nil }

// article is "a link", "an output".
func article(kind string) string { return "a" + an(kind) + " " + kind }

// nodeKinds are the kinds with an address of their own.
func nodeKinds() []string {
	var out []string
	for _, k := range resourceKinds() {
		if kindDefs[k].node {
			out = append(out, k)
		}
	}
	return out
}

// faultTargets are the kinds that have faults.
func faultTargets() []string {
	var out []string
	for _, k := range resourceKinds() {
		if len(kindDefs[k].faults) > 0 {
			out = append(out, k)
		}
	}
	return out
}

// Faults are what `labnet fault` and a scenario's fault step can do to an
// instance of a block type (nil: nothing).
func Faults(kind string) []string {
	if k := kindDefs[kind]; k != nil {
		return k.faults
	}
	return nil
}

// topSchema is the schema of a lab file: the language's own blocks, then
// one block type per kind.
func topSchema() *hcl.BodySchema {
	s := &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "lab"},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "output", LabelNames: []string{"name"}},
	}}
	for _, k := range resourceKinds() {
		s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: k, LabelNames: []string{"name"}})
	}
	return s
}

// add appends a decoded instance to its kind's list in the lab.
func add[T any](lab *Lab, kind string, v T) {
	if lab.lists == nil {
		lab.lists, lab.byAddr = map[string]any{}, map[string]any{}
	}
	s, _ := lab.lists[kind].([]T)
	lab.lists[kind] = append(s, v)
	if r, ok := any(v).(interface{ resource() *Resource }); ok {
		lab.byAddr[r.resource().Addr] = v
	}
}

func (r *Resource) resource() *Resource { return r }

// Find returns the instance at addr when it is a T (a *Host, a *Bridge),
// and the zero T when there is none.
func Find[T any](lab *Lab, addr string) T {
	v, _ := lab.byAddr[addr].(T)
	return v
}

// listOf is a kind's decoded instances, in declaration order.
func listOf[T any](lab *Lab, kind string) []T {
	s, _ := lab.lists[kind].([]T)
	return s
}

// Counts lists every kind the lab declares at least one of, in the order
// the language reference presents them; outputs last.
func (l *Lab) Counts() []Count {
	var all []Count
	for _, k := range resourceKinds() {
		def := kindDefs[k]
		if def.counts != nil {
			all = append(all, def.counts(l)...)
			continue
		}
		n := 0
		if s, ok := l.lists[k]; ok {
			n = reflect.ValueOf(s).Len()
		}
		all = append(all, Count{strings.ReplaceAll(k, "_", " "), n})
	}
	all = append(all, Count{"output", len(l.Outputs)})
	var found []Count
	for _, c := range all {
		if c.N > 0 {
			found = append(found, c)
		}
	}
	return found
}

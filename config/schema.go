package config

// SchemaBlock describes one block type of the lab language, as the loader
// accepts it.
type SchemaBlock struct {
	// Path names the block: "container" for a top-level block, "container >
	// port" for a block nested in one.
	Path string
	// Labels are the names of the block's labels (["name"] for
	// `container "web" { ... }`), none for `lab { ... }`.
	Labels []string
	// Attrs are the argument names the block accepts, in schema order;
	// blocks that accept the meta-arguments end with count and for_each.
	Attrs []string
	// Required are the arguments that must be set. Rules the decoder
	// enforces beyond this (a container needs exactly one of bridge and
	// segment) are not listed.
	Required []string
	// Blocks are the types of the blocks nested in this one.
	Blocks []string
	// Meta says whether the block accepts count and for_each.
	Meta bool
	// Arbitrary says whether the block takes attributes of any name
	// (locals); Attrs is then empty.
	Arbitrary bool
}

// metaAttrs are the meta-arguments of every resource block.
var metaAttrs = []string{"count", "for_each"}

// topLevelSchemas maps the top-level block types that are not resources to
// the schema their loader decodes them with. locals has none: its body is
// read with JustAttributes.
var topLevelSchemas = map[string]blockSchema{
	"lab":      labSchema,
	"variable": variableSchema,
	"output":   outputSchema,
}

// blockSchemaOf returns the schema a top-level block of type typ is
// decoded with; ok is false for locals and for a type the loader does not
// know (which would be a bug in this file).
func blockSchemaOf(typ string) (s blockSchema, ok bool) {
	if isResourceKind(typ) {
		s = kindDefs[typ].fullSchema()
		s.meta = true // collectResource sets it for every resource
		return s, true
	}
	s, ok = topLevelSchemas[typ]
	return s, ok
}

// Schema describes every top-level block type (in topSchema's order) and,
// after each, the block types nested in it, derived from the schemas the
// loader decodes with.
func Schema() []SchemaBlock {
	var out []SchemaBlock
	for _, hdr := range topSchema().Blocks {
		s, ok := blockSchemaOf(hdr.Type)
		b := describe(hdr.Type, hdr.LabelNames, s)
		if !ok && hdr.Type == "locals" {
			b.Arbitrary = true
		}
		out = append(out, b)
		for _, sub := range s.blocks {
			out = append(out, describe(hdr.Type+" > "+sub.hdr.Type, sub.hdr.LabelNames, sub.schema))
		}
	}
	return out
}

func describe(path string, labels []string, s blockSchema) SchemaBlock {
	b := SchemaBlock{
		Path:     path,
		Labels:   append([]string(nil), labels...),
		Attrs:    append([]string(nil), s.attrs...),
		Required: append([]string(nil), s.required...),
		Meta:     s.meta,
	}
	if s.meta {
		b.Attrs = append(b.Attrs, metaAttrs...)
	}
	for _, sub := range s.blocks {
		b.Blocks = append(b.Blocks, sub.hdr.Type)
	}
	return b
}

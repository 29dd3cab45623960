package config

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Options are the inputs to Load besides the lab files.
type Options struct {
	Vars     map[string]string // -var NAME=VALUE, raw text
	VarFiles []string          // -var-file paths (HCL: name = value)
	Env      []string          // os.Environ()-style; LABNET_VAR_<name>=value are variable values
	// NoImages: images are checked as written but not opened (no archive
	// read, no registry asked): their digest and configuration stay
	// unknown. For commands that make nothing from them (a full destroy,
	// exec, test), which must work when a registry is away.
	NoImages bool
}

// EnvVarPrefix prefixes environment variables that set lab variables.
const EnvVarPrefix = "LABNET_VAR_"

var (
	labNameRe  = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	labelRe    = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	eachKeyRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	ifnameRe   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_.-]*$`)
	identRe    = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_-]*$`)
	maxIfname  = 15
	maxCount   = 1000
	maxTimeout = "5m"
	maxWithin  = "30m"
)

// blockSchema describes a block's arguments; required ones are checked by
// the loader so the error points at the block header.
type blockSchema struct {
	attrs    []string
	required []string
	blocks   []nested // the blocks it may hold
	single   []string // block types that may appear at most once
	meta     bool     // accepts count and for_each
}

func (s blockSchema) hcl() *hcl.BodySchema {
	bs := &hcl.BodySchema{}
	for _, a := range s.attrs {
		bs.Attributes = append(bs.Attributes, hcl.AttributeSchema{Name: a})
	}
	for _, b := range s.blocks {
		bs.Blocks = append(bs.Blocks, b.hdr)
	}
	return bs
}

// nested is a block type nested in another, and its schema.
type nested struct {
	hdr    hcl.BlockHeaderSchema
	schema blockSchema
}

// nestedSchema is the schema of the nested blocks of type typ.
func (s blockSchema) nestedSchema(typ string) blockSchema {
	for _, b := range s.blocks {
		if b.hdr.Type == typ {
			return b.schema
		}
	}
	return blockSchema{}
}

// content decodes body against s, reporting unknown and missing arguments.
func (s blockSchema) content(body hcl.Body, defRange hcl.Range, what string) (*hcl.BodyContent, hcl.Diagnostics) {
	bs := s.hcl()
	if s.meta {
		for _, m := range metaAttrs {
			bs.Attributes = append(bs.Attributes, hcl.AttributeSchema{Name: m})
		}
	}
	content, diags := body.Content(bs)
	for _, name := range s.required {
		if _, ok := content.Attributes[name]; !ok {
			r := defRange
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing required argument",
				Detail:   fmt.Sprintf("The argument %q is required in %s, but no definition was found.", name, what),
				Subject:  &r,
			})
		}
	}
	return content, diags
}

// Load reads every *.hcl file in dir (not recursive, sorted by name),
// decodes, evaluates and validates the lab. files maps each file name
// (filepath.Join(dir, name)) to its parsed file, for diagnostic snippets.
// When diags has errors, lab is nil.
func Load(dir string, opts Options) (lab *Lab, files map[string]*hcl.File, diags hcl.Diagnostics) {
	l := newLoader(dir, opts)
	l.run()
	files = l.parser.Files()
	if l.diags.HasErrors() {
		return nil, files, l.diags
	}
	return l.lab, files, l.diags
}

// WriteDiagnostics prints each diagnostic as "file:line:col: error: summary",
// the way compilers do (editors jump to it), then its detail and a source
// snippet with the range marked.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, color bool) error {
	red, yellow, bold, reset := "", "", "", ""
	if color {
		red, yellow, bold, reset = "\033[31m", "\033[33m", "\033[1m", "\033[0m"
	}
	for _, d := range diags {
		sev, c := "error", red
		if d.Severity == hcl.DiagWarning {
			sev, c = "warning", yellow
		}
		where := "labnet"
		if d.Subject != nil {
			where = fmt.Sprintf("%s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		if _, err := fmt.Fprintf(w, "%s%s%s: %s%s:%s %s\n", bold, where, reset, c, sev, reset, d.Summary); err != nil {
			return err
		}
		if d.Detail != "" {
			fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(d.Detail, "\n", "\n  "))
		}
		if d.Subject != nil {
			if f := files[d.Subject.Filename]; f != nil {
				lines := strings.Split(string(f.Bytes), "\n")
				if n := d.Subject.Start.Line; n >= 1 && n <= len(lines) {
					text := strings.ReplaceAll(lines[n-1], "\t", " ")
					fmt.Fprintf(w, "  %4d | %s\n", n, text)
					start := d.Subject.Start.Column
					end := d.Subject.End.Column
					if d.Subject.End.Line != n || end <= start {
						end = len(text) + 1
					}
					if start >= 1 && start <= len(text)+1 {
						fmt.Fprintf(w, "       | %s%s%s%s\n", strings.Repeat(" ", start-1), c, strings.Repeat("^", max(1, end-start)), reset)
					}
				}
			}
		}
		fmt.Fprintln(w)
	}
	return nil
}

type loader struct {
	dir    string // as given
	absDir string
	opts   Options
	parser *hclparse.Parser
	funcs  map[string]function.Function
	diags  hcl.Diagnostics
	lab    *Lab

	labBlock *hcl.Block
	nodes    []*node
	byAddr   map[string]*node // "var.x", "local.x", "output.x", "host.node"

	// evaluation state
	varVals   map[string]cty.Value
	localVals map[string]cty.Value
	localRefs map[string]map[string]bool      // local name -> resource instance addrs
	resVals   map[string]map[string]cty.Value // kind -> label -> collection value
	instances map[string]*instance            // instance addr -> instance
	names     map[string]map[string]string    // kind -> instance name -> addr
	outputs   map[*node]*Output

	netTaken    map[string]map[netip.Addr]string // network addr -> address -> owner
	bridgeTaken map[string]map[netip.Addr]string // bridge addr -> address -> owner
	hostPorts   map[string]map[string]string     // host addr -> "8080/tcp" -> owner
	natTaken    map[string]map[netip.Addr]string // host addr -> nat VM address -> owner
	segTaken    map[string]map[netip.Addr]string // segment addr -> address -> owner
	podTaken    map[string]map[netip.Addr]string // pod subnet (prefix string) -> address -> owner
	natDefault  map[string]bool                  // host addr -> nat_network not set
	podNetOf    map[string]string                // host addr -> pod_network addr
	hostBridges map[string][]*Bridge             // host addr -> bridges on it
	images      map[string]*openedImage          // image reference -> the image it opened (image.go)
	linkIfnames map[string]map[string]string     // node addr -> link interface name -> link addr
	nodeNets    map[string][]ownedPrefix         // node addr -> its links' addresses
	nodeGateway map[string]string                // node addr -> the link its default route takes
	linkVNIs    map[vniKey]string                // cross-host links' VNIs -> link addr
	ifnames     map[string]map[string]string     // host addr -> ifname -> bridge addr

	varFileVals map[string]varFileVal
}

type varFileVal struct {
	val  cty.Value
	expr hcl.Expression
	file string
}

func newLoader(dir string, opts Options) *loader {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return &loader{
		dir:         dir,
		absDir:      abs,
		opts:        opts,
		parser:      hclparse.NewParser(),
		funcs:       functions(abs),
		lab:         &Lab{Dir: abs, Deps: map[string][]string{}},
		byAddr:      map[string]*node{},
		varVals:     map[string]cty.Value{},
		localVals:   map[string]cty.Value{},
		localRefs:   map[string]map[string]bool{},
		resVals:     map[string]map[string]cty.Value{},
		instances:   map[string]*instance{},
		names:       map[string]map[string]string{},
		outputs:     map[*node]*Output{},
		netTaken:    map[string]map[netip.Addr]string{},
		bridgeTaken: map[string]map[netip.Addr]string{},
		hostPorts:   map[string]map[string]string{},
		natTaken:    map[string]map[netip.Addr]string{},
		segTaken:    map[string]map[netip.Addr]string{},
		podTaken:    map[string]map[netip.Addr]string{},
		natDefault:  map[string]bool{},
		podNetOf:    map[string]string{},
		hostBridges: map[string][]*Bridge{},
		linkIfnames: map[string]map[string]string{},
		nodeNets:    map[string][]ownedPrefix{},
		nodeGateway: map[string]string{},
		linkVNIs:    map[vniKey]string{},
		ifnames:     map[string]map[string]string{},
		varFileVals: map[string]varFileVal{},
	}
}

func (l *loader) errorf(subject *hcl.Range, summary, format string, args ...any) {
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...)}
	if subject != nil {
		r := *subject
		d.Subject = &r
	}
	l.diags = append(l.diags, d)
}

func (l *loader) run() {
	bodies := l.parseDir()
	if l.diags.HasErrors() && len(bodies) == 0 {
		return
	}
	for _, b := range bodies {
		l.collect(b)
	}
	l.labName(bodies)
	l.parseVarFiles()
	l.checkVarNames()
	l.buildGraph()
	l.evaluate()
}

// parseDir parses the lab files and returns their bodies.
func (l *loader) parseDir() []hcl.Body {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		l.errorf(nil, "Cannot read lab directory", "%v", err)
		return nil
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".hcl") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		l.errorf(nil, "No lab files", "The directory %s contains no *.hcl files.", l.dir)
		return nil
	}
	var bodies []hcl.Body
	for _, n := range names {
		fn := filepath.Join(l.dir, n)
		src, err := os.ReadFile(fn)
		if err != nil {
			l.errorf(nil, "Cannot read lab file", "%v", err)
			continue
		}
		f, diags := l.parser.ParseHCL(src, fn)
		l.diags = append(l.diags, diags...)
		if f != nil && f.Body != nil {
			bodies = append(bodies, f.Body)
		}
	}
	return bodies
}

// labName sets the lab name from the lab block or the directory.
func (l *loader) labName(bodies []hcl.Body) {
	if l.labBlock != nil {
		content, diags := labSchema.content(l.labBlock.Body, l.labBlock.DefRange, "a lab block")
		l.diags = append(l.diags, diags...)
		if attr, ok := content.Attributes["name"]; ok {
			v, diags := attr.Expr.Value(l.constCtx())
			l.diags = append(l.diags, diags...)
			if diags.HasErrors() {
				return
			}
			s, ok := l.toString(v, "name", attr.Expr)
			if !ok {
				return
			}
			if !labNameRe.MatchString(s) || len(s) > MaxLabName {
				l.errorf(attr.Expr.Range().Ptr(), "Invalid lab name",
					"The lab name %q must match %s and be at most %d characters.", s, labNameRe, MaxLabName)
				return
			}
			l.lab.Name = s
			return
		}
	}
	base := filepath.Base(l.absDir)
	if !labNameRe.MatchString(base) || len(base) > MaxLabName {
		var subject *hcl.Range
		if l.labBlock != nil {
			subject = &l.labBlock.DefRange
		} else if len(bodies) > 0 {
			r := bodies[0].MissingItemRange()
			r.Start = hcl.InitialPos
			r.End = hcl.InitialPos
			subject = &r
		}
		l.errorf(subject, "Invalid lab name",
			"The lab directory name %q is not a valid lab name (it must match %s and be at most %d characters). Add a block lab { name = \"...\" } to name the lab.",
			base, labNameRe, MaxLabName)
		return
	}
	l.lab.Name = base
}

// constCtx evaluates expressions that may use functions but no references.
func (l *loader) constCtx() *hcl.EvalContext {
	return &hcl.EvalContext{Functions: l.funcs}
}

// collect records the top-level blocks of one file as graph nodes.
func (l *loader) collect(body hcl.Body) {
	content, diags := body.Content(topSchema())
	l.diags = append(l.diags, diags...)
	for _, b := range content.Blocks {
		switch b.Type {
		case "lab":
			if l.labBlock != nil {
				l.errorf(&b.DefRange, "Duplicate lab block", "A lab block was already declared at %s.", posString(l.labBlock.DefRange))
				continue
			}
			l.labBlock = b
		case "variable":
			l.collectVariable(b)
		case "locals":
			attrs, diags := b.Body.JustAttributes()
			l.diags = append(l.diags, diags...)
			list := make([]*hcl.Attribute, 0, len(attrs))
			for _, a := range attrs {
				list = append(list, a)
			}
			sort.Slice(list, func(i, j int) bool { return list[i].Range.Start.Byte < list[j].Range.Start.Byte })
			for _, a := range list {
				l.addNode(&node{addr: "local." + a.Name, kind: nodeLocal, label: a.Name, rng: a.NameRange, expr: a.Expr,
					attrs: hcl.Attributes{"value": a}})
			}
		case "output":
			l.collectOutput(b)
		default:
			l.collectResource(b)
		}
	}
}

func (l *loader) addNode(n *node) bool {
	if prev, ok := l.byAddr[n.addr]; ok {
		what := n.addr
		switch n.kind {
		case nodeLocal:
			what = fmt.Sprintf("local value %q", n.label)
		case nodeVar:
			what = fmt.Sprintf("variable %q", n.label)
		case nodeOutput:
			what = fmt.Sprintf("output %q", n.label)
		default:
			what = fmt.Sprintf("%s %q", n.rkind, n.label)
		}
		l.errorf(&n.rng, "Duplicate declaration", "A %s was already declared at %s.", what, posString(prev.rng))
		return false
	}
	n.decl = len(l.nodes)
	l.nodes = append(l.nodes, n)
	l.byAddr[n.addr] = n
	return true
}

func (l *loader) collectVariable(b *hcl.Block) {
	name := b.Labels[0]
	if !identRe.MatchString(name) {
		l.errorf(&b.LabelRanges[0], "Invalid variable name", "The variable name %q must be a valid identifier (%s).", name, identRe)
		return
	}
	content, diags := variableSchema.content(b.Body, b.DefRange, "a variable block")
	l.diags = append(l.diags, diags...)
	l.addNode(&node{addr: "var." + name, kind: nodeVar, label: name, rng: b.DefRange, block: b, attrs: content.Attributes})
}

func (l *loader) collectOutput(b *hcl.Block) {
	name := b.Labels[0]
	if !identRe.MatchString(name) {
		l.errorf(&b.LabelRanges[0], "Invalid output name", "The output name %q must be a valid identifier (%s).", name, identRe)
		return
	}
	content, diags := outputSchema.content(b.Body, b.DefRange, "an output block")
	l.diags = append(l.diags, diags...)
	n := &node{addr: "output." + name, kind: nodeOutput, label: name, rng: b.DefRange, block: b, attrs: content.Attributes}
	if diags.HasErrors() {
		n.bad = true
	}
	l.addNode(n)
}

func (l *loader) collectResource(b *hcl.Block) {
	kind, label := b.Type, b.Labels[0]
	if !labelRe.MatchString(label) {
		l.errorf(&b.LabelRanges[0], "Invalid name",
			"The %s name %q must start with a lowercase letter and contain only lowercase letters, digits, '-' and '_' (%s).", kind, label, labelRe)
		return
	}
	schema := kindDefs[kind].fullSchema()
	schema.meta = true
	content, diags := schema.content(b.Body, b.DefRange, fmt.Sprintf("a %s block", kind))
	l.diags = append(l.diags, diags...)
	n := &node{addr: kind + "." + label, kind: nodeResource, rkind: kind, label: label, rng: b.DefRange, block: b, attrs: content.Attributes}
	if diags.HasErrors() {
		n.bad = true
	}
	first := map[string]*hcl.Block{}
	for _, sb := range content.Blocks {
		if prev := first[sb.Type]; prev != nil && slices.Contains(schema.single, sb.Type) {
			l.errorf(&sb.DefRange, "Duplicate "+sb.Type+" block",
				"Only one %s block is allowed in a %s block; one was already declared at %s.", sb.Type, kind, posString(prev.DefRange))
			n.bad = true
			continue
		}
		if first[sb.Type] == nil {
			first[sb.Type] = sb
		}
		sub := schema.nestedSchema(sb.Type)
		sc, diags := sub.content(sb.Body, sb.DefRange, fmt.Sprintf("a%s %s block", an(sb.Type), sb.Type))
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			n.bad = true
		}
		blk := &subBlock{typ: sb.Type, block: sb, attrs: sc.Attributes}
		for _, nb := range sc.Blocks { // a pod container's file blocks
			nc, diags := sub.nestedSchema(nb.Type).content(nb.Body, nb.DefRange, fmt.Sprintf("a%s %s block", an(nb.Type), nb.Type))
			l.diags = append(l.diags, diags...)
			if diags.HasErrors() {
				n.bad = true
			}
			blk.subs = append(blk.subs, &subBlock{typ: nb.Type, block: nb, attrs: nc.Attributes})
		}
		n.subs = append(n.subs, blk)
	}
	if check := kindDefs[kind].collected; check != nil {
		check(l, n)
	}
	if c, ok := n.attrs["count"]; ok {
		if f, ok := n.attrs["for_each"]; ok {
			later := f
			if f.Range.Start.Byte < c.Range.Start.Byte {
				later = c
			}
			l.errorf(&later.Range, "Invalid combination of count and for_each",
				"The count and for_each arguments are mutually exclusive; only one may be used in a %s block.", kind)
			n.bad = true
		}
	}
	l.addNode(n)
}

// parseVarFiles reads the -var-file files.
func (l *loader) parseVarFiles() {
	for _, fn := range l.opts.VarFiles {
		src, err := os.ReadFile(fn)
		if err != nil {
			l.errorf(nil, "Cannot read variables file", "%v", err)
			continue
		}
		f, diags := l.parser.ParseHCL(src, fn)
		l.diags = append(l.diags, diags...)
		if f == nil || diags.HasErrors() {
			continue
		}
		attrs, diags := f.Body.JustAttributes()
		l.diags = append(l.diags, diags...)
		for name, a := range attrs {
			v, diags := a.Expr.Value(l.constCtx())
			l.diags = append(l.diags, diags...)
			if diags.HasErrors() {
				continue
			}
			if _, ok := l.byAddr["var."+name]; !ok {
				l.diags = append(l.diags, &hcl.Diagnostic{
					Severity: hcl.DiagWarning,
					Summary:  "Value for undeclared variable",
					Detail:   fmt.Sprintf("The variables file %s sets %q, but no variable %q is declared; the value is ignored.", fn, name, name),
					Subject:  a.NameRange.Ptr(),
				})
				continue
			}
			l.varFileVals[name] = varFileVal{val: v, expr: a.Expr, file: fn}
		}
	}
}

// checkVarNames rejects -var values for undeclared variables.
func (l *loader) checkVarNames() {
	names := make([]string, 0, len(l.opts.Vars))
	for name := range l.opts.Vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, ok := l.byAddr["var."+name]; !ok {
			l.errorf(nil, "Value for undeclared variable",
				"A value was given with -var %s=..., but no variable %q is declared in the lab.", name, name)
		}
	}
}

// envVars returns the LABNET_VAR_ values from opts.Env; later entries win.
func (l *loader) envVars() map[string]string {
	m := map[string]string{}
	for _, kv := range l.opts.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, EnvVarPrefix) {
			continue
		}
		m[strings.TrimPrefix(k, EnvVarPrefix)] = v
	}
	return m
}

// posString formats the start of r as file:line:col.
func posString(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

package config

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// languageDoc is the reference of the lab language, checked against Schema.
const languageDoc = "../docs/language.md"

// docSection is one `### path` section of the language reference: the
// arguments listed in its argument table (the table whose header's first
// cell is "argument"), with the line each is on.
type docSection struct {
	line  int
	attrs map[string]int // argument -> line
	table bool           // has an argument table
}

// Kinds of Markdown table a line can be in.
const (
	noTable = iota
	argTable
	otherTable
)

var (
	docHeadingRe = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	// A block path: "container", "container > port".
	docPathRe = regexp.MustCompile("^`?([a-z_]+(?: > [a-z_]+)*)`?$")
	docArgRe  = regexp.MustCompile("^`([a-z_][a-z0-9_]*)`$")
	docSepRe  = regexp.MustCompile(`^\|?(\s*:?-+:?\s*\|)*\s*:?-+:?\s*\|?$`)
)

// splitRow splits a Markdown table row into its trimmed cells; `\|` is a
// pipe inside a cell.
func splitRow(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	if strings.HasSuffix(line, "|") && !strings.HasSuffix(line, `\|`) {
		line = line[:len(line)-1]
	}
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cur.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(line[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

// parseLanguageDoc reads the sections of the reference. A section starts
// at a heading of level 3 whose text is a block path and ends at the next
// heading of level 1 to 3. Headings of other shapes and fenced code are
// skipped; a duplicate section is an error.
func parseLanguageDoc(text string) (map[string]*docSection, []string) {
	sections := map[string]*docSection{}
	var problems []string
	var cur *docSection
	inFence := false
	table := noTable // the table the current line is in
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			inFence, table = !inFence, noTable
			continue
		}
		if inFence {
			continue
		}
		if m := docHeadingRe.FindStringSubmatch(trimmed); m != nil {
			table = noTable
			if len(m[1]) > 3 {
				continue
			}
			cur = nil
			pm := docPathRe.FindStringSubmatch(m[2])
			if len(m[1]) != 3 || pm == nil {
				continue
			}
			path := pm[1]
			if prev, ok := sections[path]; ok {
				problems = append(problems, fmt.Sprintf("%s:%d: section %q again (first at line %d)", languageDoc, n, path, prev.line))
				continue
			}
			cur = &docSection{line: n, attrs: map[string]int{}}
			sections[path] = cur
			continue
		}
		if !strings.HasPrefix(trimmed, "|") {
			table = noTable
			continue
		}
		cells := splitRow(trimmed)
		if table == noTable {
			// A table starts: its header says whether it lists arguments.
			table = otherTable
			if cur != nil && strings.EqualFold(strings.Trim(cells[0], "` "), "argument") {
				table, cur.table = argTable, true
			}
			continue
		}
		if table != argTable {
			continue
		}
		if docSepRe.MatchString(trimmed) {
			continue // the row under the header
		}
		m := docArgRe.FindStringSubmatch(cells[0])
		if m == nil {
			problems = append(problems, fmt.Sprintf("%s:%d: the first cell of an argument row must be an argument name in backticks, got %q", languageDoc, n, cells[0]))
			continue
		}
		if prev, ok := cur.attrs[m[1]]; ok {
			problems = append(problems, fmt.Sprintf("%s:%d: argument %q listed again (first at line %d)", languageDoc, n, m[1], prev))
			continue
		}
		cur.attrs[m[1]] = n
	}
	return sections, problems
}

// TestLanguageDoc checks docs/language.md against Schema: every block and
// every argument the loader accepts is documented in its block's section,
// and no section lists an argument (or a block) the loader does not accept.
func TestLanguageDoc(t *testing.T) {
	b, err := os.ReadFile(languageDoc)
	if err != nil {
		t.Fatal(err)
	}
	sections, problems := parseLanguageDoc(string(b))
	for _, p := range problems {
		t.Error(p)
	}
	known := map[string]bool{}
	for _, blk := range Schema() {
		known[blk.Path] = true
		sec := sections[blk.Path]
		if sec == nil {
			t.Errorf("block %q: no section \"### %s\" in %s", blk.Path, blk.Path, languageDoc)
			continue
		}
		if blk.Arbitrary {
			continue // locals: any attribute name
		}
		if !sec.table {
			t.Errorf("block %q: section at %s:%d has no argument table (a table whose header's first cell is \"argument\")", blk.Path, languageDoc, sec.line)
			continue
		}
		for _, a := range blk.Attrs {
			if _, ok := sec.attrs[a]; !ok {
				t.Errorf("block %q: argument %q is accepted by the loader but missing from its table at %s:%d", blk.Path, a, languageDoc, sec.line)
			}
		}
		for a, line := range sec.attrs {
			if !slices.Contains(blk.Attrs, a) {
				t.Errorf("block %q: argument %q is documented at %s:%d but the loader does not accept it (stale documentation)", blk.Path, a, languageDoc, line)
			}
		}
	}
	for path, sec := range sections {
		if !known[path] && sec.table {
			t.Errorf("block %q: documented at %s:%d with an argument table, but the loader has no such block (stale documentation)", path, languageDoc, sec.line)
		}
	}
}

// TestParseLanguageDoc makes sure the parser finds what TestLanguageDoc
// relies on, so a parser that silently sees nothing cannot pass.
func TestParseLanguageDoc(t *testing.T) {
	doc := strings.Join([]string{
		"# Title",
		"### container",
		"Some text.",
		"| argument | type | notes |",
		"|---|---|---|",
		"| `host` | host | required \\| really |",
		"| `count` | number | |",
		"",
		"| attribute | type |",
		"|---|---|",
		"| `id` | string |",
		"```hcl",
		"### not-a-section",
		"| argument |",
		"| `inside_fence` |",
		"```",
		"### container > port",
		"| argument | type |",
		"|---|---|",
		"| `port` | number |",
		"## Functions",
		"| argument |",
		"|---|",
		"| `ignored` |",
		"### Not a path",
		"| argument |",
		"|---|",
		"| `ignored_too` |",
	}, "\n")
	sections, problems := parseLanguageDoc(doc)
	if len(problems) > 0 {
		t.Fatalf("problems: %q", problems)
	}
	got := map[string][]string{}
	for path, sec := range sections {
		var attrs []string
		for a := range sec.attrs {
			attrs = append(attrs, a)
		}
		slices.Sort(attrs)
		got[path] = attrs
	}
	want := map[string][]string{"container": {"count", "host"}, "container > port": {"port"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("parsed %v, want %v", got, want)
	}
	if _, p := parseLanguageDoc("### host\n| argument |\n|---|\n| host |\n"); len(p) != 1 {
		t.Fatalf("a row without a backticked name: problems %q, want one", p)
	}
}

// TestSchemaMatchesDecoder proves Schema against the loader's own decoding:
// a block body setting every argument Schema lists decodes without an
// "Unsupported argument", and one setting an argument Schema does not list
// is refused.
func TestSchemaMatchesDecoder(t *testing.T) {
	for _, hdr := range topSchema().Blocks {
		if _, ok := blockSchemaOf(hdr.Type); !ok && hdr.Type != "locals" {
			t.Errorf("top-level block %q has no schema in blockSchemaOf", hdr.Type)
		}
	}
	schemaOf := func(path string) (blockSchema, bool) {
		top, sub, nested := strings.Cut(path, " > ")
		s, ok := blockSchemaOf(top)
		if !nested {
			return s, ok
		}
		return s.nestedSchema(sub), ok
	}
	decode := func(s blockSchema, attrs []string) hcl.Diagnostics {
		var src strings.Builder
		for _, a := range attrs {
			fmt.Fprintf(&src, "%s = 1\n", a)
		}
		f, diags := hclsyntax.ParseConfig([]byte(src.String()), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		_, diags = s.content(f.Body, hcl.Range{}, "a block")
		return diags
	}
	for _, blk := range Schema() {
		if blk.Arbitrary {
			continue
		}
		s, ok := schemaOf(blk.Path)
		if !ok {
			t.Errorf("block %q: no schema", blk.Path)
			continue
		}
		for _, d := range decode(s, blk.Attrs) {
			t.Errorf("block %q: decoding every argument of Schema: %s: %s", blk.Path, d.Summary, d.Detail)
		}
		if diags := decode(s, append(slices.Clone(blk.Attrs), "not_an_argument")); !diags.HasErrors() {
			t.Errorf("block %q: an unknown argument was accepted", blk.Path)
		}
	}
}

package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

func (u *ui) fmt(args []string) int {
	fs := newFlags(u, "fmt", "fmt [-check] [-diff] [FILE...]\n\nRewrites the lab's *.hcl files in canonical format.\n\nExamples:\n  labnet fmt\n  labnet fmt -check -diff   # in CI: exit 3 when a file is not formatted")
	checkOnly := fs.Bool("check", false, "change nothing; exit 3 when a file is not formatted")
	showDiff := fs.Bool("diff", false, "print the files that would change with their new text")
	if fs.Parse(args) != nil {
		return 1
	}
	files := fs.Args()
	if len(files) == 0 {
		var err error
		files, err = filepath.Glob("*.hcl")
		if err != nil {
			u.errorf("%v", err)
			return 1
		}
	}
	sort.Strings(files)
	unformatted := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			u.errorf("%v", err)
			return 1
		}
		if _, diags := hclwrite.ParseConfig(src, f, hcl.InitialPos); diags.HasErrors() {
			u.errorf("%s: %s", f, diags.Error())
			return 1
		}
		out := hclwrite.Format(src)
		if bytes.Equal(src, out) {
			continue
		}
		unformatted++
		fmt.Fprintln(u.stdout, f)
		if *showDiff {
			fmt.Fprintf(u.stdout, "--- %s (formatted)\n%s\n", f, out)
		}
		if !*checkOnly {
			if err := os.WriteFile(f, out, 0o644); err != nil {
				u.errorf("%v", err)
				return 1
			}
		}
	}
	if *checkOnly && unformatted > 0 {
		return 3
	}
	return 0
}

func (u *ui) printOutputs(w *workspace, prefix string) {
	for _, o := range w.lab.Outputs {
		v := ctyString(o.Value, false)
		if o.Sensitive {
			v = "(sensitive value)"
		}
		fmt.Fprintf(u.stdout, "%s%s = %s\n", prefix, o.Name, v)
	}
}

func (u *ui) outputsJSON(w *workspace, name string) int {
	out := map[string]any{}
	for _, o := range w.lab.Outputs {
		b, err := ctyjson.Marshal(o.Value, o.Value.Type())
		if err != nil {
			u.errorf("output %s: %v", o.Name, err)
			return 1
		}
		if name != "" {
			if o.Name == name {
				fmt.Fprintln(u.stdout, string(b))
				return 0
			}
			continue
		}
		tb, _ := ctyjson.MarshalType(o.Value.Type())
		out[o.Name] = map[string]any{"value": json.RawMessage(b), "type": json.RawMessage(tb), "sensitive": o.Sensitive}
	}
	if name != "" {
		u.errorf("no output named %q", name)
		return 1
	}
	enc := json.NewEncoder(u.stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
	return 0
}

// ctyString renders a value in HCL syntax; raw prints strings unquoted.
func ctyString(v cty.Value, raw bool) string {
	if raw && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
		return v.AsString()
	}
	return string(hclwrite.TokensForValue(v).Bytes())
}

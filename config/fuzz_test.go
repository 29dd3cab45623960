package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// knownPanics are panics FuzzLoad found that wait for a fix in the loader.
// Their inputs are kept in testdata/fuzz/FuzzLoad and skip with the reason
// (instead of failing `go test ./...`) until the fix lands; then they run
// as plain regression cases. Any other panic fails.
var knownPanics = []struct {
	value, frame, note string
}{}

// load runs Load and turns a panic into a test failure, or a skip when it
// is a known one.
func load(t *testing.T, dir string) (lab *Lab, files map[string]*hcl.File, diags hcl.Diagnostics) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		stack := string(debug.Stack())
		msg := fmt.Sprint(r)
		for _, k := range knownPanics {
			if strings.Contains(msg, k.value) && strings.Contains(stack, k.frame) {
				t.Skipf("%s (panic: %s)", k.note, msg)
			}
		}
		t.Fatalf("Load panicked: %s\n%s", msg, stack)
	}()
	return Load(dir, Options{})
}

// FuzzLoad feeds arbitrary bytes to Load as a lab's only file. Whatever
// the text, Load must return diagnostics, never panic; a lab comes back
// exactly when there are no errors; and the diagnostics can be printed
// with their snippets. Seeds are every lab of testdata/valid and
// testdata/invalid (and of ../labs); testdata/fuzz/FuzzLoad keeps inputs
// that once failed.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"testdata/valid/*/main.hcl", "testdata/invalid/*.hcl", "../labs/*/main.hcl"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, fn := range files {
			b, err := os.ReadFile(fn)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	for _, s := range []string{
		"",
		"lab {}",
		"lab { name = \"x\" }\nlocals { a = local.a }\n",
		"variable \"n\" {\n  type = number\n  default = 1\n}\nnetwork \"lan\" { cidr = cidrsubnet(\"10.0.0.0/8\", 8, var.n) }\n",
		"host \"h\" {\n  for_each = { a = 1 }\n  network = network.lan\n}\n",
		"\xff\xfe\x00",
		"${",
		"%{ for x in [] }",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		// The directory's name is a valid lab name, so a lab without a lab
		// block gets past naming.
		dir := filepath.Join(t.TempDir(), "fuzz")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		lab, files, diags := load(t, dir)
		if diags.HasErrors() != (lab == nil) {
			t.Fatalf("lab %v with diagnostics %v", lab != nil, diags)
		}
		if err := WriteDiagnostics(io.Discard, files, diags, true); err != nil {
			t.Fatalf("WriteDiagnostics: %v", err)
		}
	})
}

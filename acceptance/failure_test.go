package acceptance

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestFailureNamesResourceHostAndError: a process that cannot start fails
// its own change with the host's words; the rest of the lab is applied and
// the next apply retries only the failed change.
func TestFailureNamesResourceHostAndError(t *testing.T) {
	l := newLab(t, "docker")
	extra := `
process "broken" {
  on      = host.node[1]
  command = ["/nonexistent/program", "--flag"]
}
`
	if err := os.WriteFile(filepath.Join(l.dir, "broken.hcl"), []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := l.run("apply", "-auto-approve")
	if code != 1 {
		t.Fatalf("apply with a broken process: exit %d\n%s", code, out)
	}
	for _, want := range []string{"process.broken on host.node[1]: create failed", "/nonexistent/program"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("error lacks %q:\n%s", want, errOut)
		}
	}
	// Everything else was made: the checks pass.
	if out := l.must(0, "test"); !strings.Contains(out, "5 passed, 0 failed") {
		t.Fatalf("checks after a partial failure:\n%s", out)
	}
	out = l.must(2, "plan", "-detailed-exitcode")
	add, change, destroy := planCounts(t, out)
	if add != 1 || change != 0 || destroy != 1 || !strings.Contains(out, "process.broken will be replaced") {
		t.Fatalf("after the failure the plan should only retry process.broken (tainted): %d/%d/%d\n%s", add, change, destroy, out)
	}
	// The retry replaces it: its destroy is reported, though nothing of it
	// was left to delete.
	out, _, code = l.run("apply", "-auto-approve")
	if code != 1 || !strings.Contains(out, "process.broken: Destroying...") || !strings.Contains(out, "process.broken: Destruction complete") {
		t.Errorf("the retry of a tainted process: exit %d, want its destroy lines:\n%s", code, out)
	}
	if err := os.Remove(filepath.Join(l.dir, "broken.hcl")); err != nil {
		t.Fatal(err)
	}
	l.must(0, "apply", "-auto-approve")
	l.must(0, "plan", "-detailed-exitcode")
}

// TestTwoLabsAtOnce: two labs with the same LAN, the same container
// addresses and the same host names live side by side on one machine.
func TestTwoLabsAtOnce(t *testing.T) {
	a, b := newLab(t, "docker"), newLab(t, "docker")
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, l := range []*lab{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, codes[i] = l.run("apply", "-auto-approve")
		}()
	}
	wg.Wait()
	if codes[0] != 0 || codes[1] != 0 {
		t.Fatalf("concurrent applies exited %v", codes)
	}
	for _, l := range []*lab{a, b} {
		if out := l.must(0, "test"); !strings.Contains(out, "5 passed, 0 failed") {
			t.Fatalf("%s:\n%s", l.name, out)
		}
	}
	a.must(0, "destroy", "-auto-approve")
	// b is untouched by a's destroy.
	b.must(0, "plan", "-detailed-exitcode")
	if out := b.must(0, "test"); !strings.Contains(out, "5 passed, 0 failed") {
		t.Fatalf("after destroying the other lab:\n%s", out)
	}
}

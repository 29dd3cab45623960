package acceptance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestApplyAfterLostState: with the state file gone, apply finds the lab's
// network still on the machine, replaces it (deleting it by the names the
// lab gives it: there is no state to name it) and makes the rest anew;
// afterwards the lab has one host holder and plans no changes.
func TestApplyAfterLostState(t *testing.T) {
	l := newBenchLab(t, "scale")
	l.must(0, "apply", "-auto-approve", "-var", "n=2")
	if err := os.Remove(filepath.Join(l.dir, ".labnet", "state.json")); err != nil {
		t.Fatal(err)
	}
	if out := l.must(2, "plan", "-detailed-exitcode", "-var", "n=2"); !strings.Contains(out, "found on the host but not in the state") {
		t.Errorf("plan after losing the state does not say what it found:\n%s", out)
	}
	l.must(0, "apply", "-auto-approve", "-var", "n=2")
	l.must(0, "plan", "-detailed-exitcode", "-var", "n=2")
	if holders := holderPIDs(l.name, "h"); len(holders) != 1 {
		t.Errorf("%d holders of host.h, want 1", len(holders))
	}
}

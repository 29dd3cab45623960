package acceptance

import (
	"strings"
	"testing"
)

// TestNoRefresh: with -refresh=false labnet plans from the state alone. It
// does not see drift (a container's namespace deleted behind its back),
// where a normal plan does; it changes the host in fewer exchanges than
// with the refresh; it still removes containers; and destroy works too.
func TestNoRefresh(t *testing.T) {
	l := newBenchLab(t, "scale")
	l.must(0, "apply", "-auto-approve", "-var", "n=3")
	hostExec(t, holderPID(t, l.name, "h"), "ip netns del ln."+l.name+".c-2")
	if out := l.must(2, "plan", "-detailed-exitcode", "-var", "n=3"); !strings.Contains(out, "container.c[2]") {
		t.Errorf("the normal plan does not remake container.c[2]:\n%s", out)
	}
	if out := l.must(0, "plan", "-detailed-exitcode", "-refresh=false", "-var", "n=3"); !strings.Contains(out, "No changes") {
		t.Errorf("-refresh=false saw the drift:\n%s", out)
	}
	l.must(0, "apply", "-auto-approve", "-var", "n=3") // repaired
	// (A removal alone would not tell: with -auto-approve it travels
	// with the read, one exchange either way.)
	with, _ := l.exchanges("host.h", "apply", "-auto-approve", "-var", "n=4")
	without, _ := l.exchanges("host.h", "apply", "-auto-approve", "-refresh=false", "-var", "n=5")
	if without >= with {
		t.Errorf("adding a container took %d exchanges with host.h without the refresh, %d with it", without, with)
	}
	l.must(0, "apply", "-auto-approve", "-refresh=false", "-var", "n=0")
	if out := l.must(0, "state", "list"); strings.Contains(out, "container.") {
		t.Errorf("containers left in the state:\n%s", out)
	}
	l.must(0, "plan", "-detailed-exitcode", "-var", "n=0")
	l.must(0, "destroy", "-auto-approve", "-refresh=false")
	if _, _, code := l.run("plan", "-detailed-exitcode", "-refresh-only", "-refresh=false"); code != 1 {
		t.Errorf("-refresh-only with -refresh=false: exit %d, want 1", code)
	}
}

package acceptance

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// TestRemovalWithTheRead: `apply -auto-approve` removes the guests that go
// whatever the host holds while it reads the host (one exchange with it,
// plan.EarlyRemovals), reports them like any deletion, and leaves the rest
// to the usual stages: a guest with a process in it stops the process
// first. A plain `plan` and an unapproved apply remove nothing.
func TestRemovalWithTheRead(t *testing.T) {
	l := newLab(t, "testdata/removal")
	l.must(0, "apply", "-auto-approve", "-var", "n=3", "-var", "s=2")
	holder := holderPID(t, l.name, "h")
	sleeper := ownedPIDs(t, l.name, "process.sleeper[1]")

	// Neither a plan nor a cancelled apply touches the host.
	l.must(2, "plan", "-detailed-exitcode", "-var", "n=1", "-var", "s=1")
	l.must(1, "apply", "-var", "n=1", "-var", "s=1")
	l.must(0, "plan", "-detailed-exitcode", "-var", "n=3", "-var", "s=2")

	n, _ := l.exchanges("host.h", "apply", "-auto-approve", "-var", "n=1", "-var", "s=2")
	if n != 1 {
		t.Errorf("removing two plain containers took %d exchanges with host.h, want 1 (with the read)", n)
	}
	out := l.must(0, "apply", "-auto-approve", "-var", "n=0", "-var", "s=1")
	for _, want := range []string{
		"container.c[0]: Destroying...", "container.c[0]: Destruction complete after",
		"process.sleeper[1]: Destruction complete after", "container.s[1]: Destruction complete after",
		"Resources: 0 added, 0 changed, 3 destroyed.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	// The process stopped (it may wait a moment to be reaped: a zombie).
	if b, err := os.ReadFile("/proc/" + sleeper + "/stat"); err == nil && !strings.Contains(string(b), ") Z ") {
		t.Errorf("process.sleeper[1] (pid %s) still runs: %s", sleeper, b)
	}
	l.must(0, "plan", "-detailed-exitcode", "-var", "n=0", "-var", "s=1")
	nsOut := hostExec(t, holder, "ip netns list")
	for _, ns := range []string{".c-0", ".c-1", ".c-2", ".s-1"} {
		if strings.Contains(nsOut, l.name+ns) {
			t.Errorf("namespace %s%s is still on the host:\n%s", l.name, ns, nsOut)
		}
	}
	// Their veths go with the namespaces, in the kernel's own time.
	deadline := time.Now().Add(10 * time.Second)
	for {
		links := hostExec(t, holder, "ip -o link show type veth")
		if c := strings.Count(links, "\n"); c == 2 {
			break // the host's eth0 and container.s[0]'s
		} else if time.Now().After(deadline) {
			t.Fatalf("%d veths on the host 10 s after the removal, want 2:\n%s", c, links)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// -json streams the early removal's events as well.
	l.must(0, "apply", "-auto-approve", "-var", "n=1", "-var", "s=1")
	phases := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(l.must(0, "apply", "-json", "-var", "n=0", "-var", "s=1")), "\n") {
		var ev struct{ Type, Address, Phase string }
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		phases[ev.Address+" "+ev.Phase] = true
	}
	if !phases["container.c[0] start"] || !phases["container.c[0] done"] {
		t.Errorf("-json events of the removal: %v", phases)
	}
}

// TestRemovalKilled: a removal killed at any moment (before the read, while
// the read and its deletions run, while the state is saved) leaves what the
// next apply finishes from: the guests it deleted are found gone, those it
// did not are deleted, and nothing of them stays on the host.
func TestRemovalKilled(t *testing.T) {
	l := newBenchLab(t, "scale")
	l.must(0, "apply", "-auto-approve", "-var", "n=100")
	start := time.Now()
	l.must(0, "apply", "-auto-approve", "-var", "n=0")
	full := time.Since(start)
	holder := holderPID(t, l.name, "h")
	kills := 0
	for i := range 6 {
		l.must(0, "apply", "-auto-approve", "-var", "n=100")
		// Kill points spread over the whole removal.
		if l.killAfter(full*time.Duration(i+1)/7, "apply", "-auto-approve", "-var", "n=0") {
			kills++
		}
		l.unlockStale()
		l.must(0, "apply", "-auto-approve", "-var", "n=0")
		l.must(0, "plan", "-detailed-exitcode", "-var", "n=0")
		if out := hostExec(t, holder, "ip netns list"); strings.Contains(out, "ln."+l.name+".c-") {
			t.Fatalf("kill %d: namespaces of removed guests left on the host:\n%s", i, out)
		}
	}
	if kills < 3 {
		t.Fatalf("only %d of 6 removals were killed before they ended (a whole one takes %v)", kills, full)
	}
}

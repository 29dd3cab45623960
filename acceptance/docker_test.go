package acceptance

import (
	"strings"
	"testing"
)

// TestDocker applies the Docker model, proves it by traffic, changes it
// twice (a host more; another published port) and checks that only what
// must change changes, then destroys it and finds the machine as it was.
func TestDocker(t *testing.T) {
	l := newLab(t, "docker")
	l.must(0, "validate")
	l.must(0, "apply", "-auto-approve")
	out := l.must(0, "test")
	if !strings.Contains(out, "5 passed, 0 failed") {
		t.Fatalf("checks:\n%s", out)
	}
	l.must(0, "plan", "-detailed-exitcode")

	// The state names every resource.
	list := l.must(0, "state", "list")
	for _, addr := range []string{"network.lan", "host.node[1]", "bridge.docker0[0]", "container.web[1]", "container.client[0]", "nat_table.node-0"} {
		if !strings.Contains(list, addr+"\n") {
			t.Errorf("state list lacks %s:\n%s", addr, list)
		}
	}

	// A third host: everything on it is added, nothing else is touched.
	// (A container's processes carry its owner mark, runc's init included.)
	pidsBefore := ownedPIDs(t, l.name, "container.web[0]")
	out = l.must(2, "plan", "-detailed-exitcode", "-var", "hosts=3")
	add, change, destroy := planCounts(t, out)
	if add != 5 || change != 0 || destroy != 0 {
		t.Fatalf("adding a host: plan %d/%d/%d, want 5 to add only:\n%s", add, change, destroy, out)
	}
	l.must(0, "apply", "-auto-approve", "-var", "hosts=3")
	if got := ownedPIDs(t, l.name, "container.web[0]"); got != pidsBefore {
		t.Errorf("container.web[0] was restarted by an unrelated change: %s -> %s", pidsBefore, got)
	}
	l.must(0, "test", "-var", "hosts=3")
	l.must(0, "plan", "-detailed-exitcode", "-var", "hosts=3")

	// Another published port: the containers' ports and the nat tables
	// change in place.
	out = l.must(2, "plan", "-detailed-exitcode", "-var", "hosts=3", "-var", "published_port=8081")
	add, change, destroy = planCounts(t, out)
	if add != 0 || destroy != 0 || change != 6 {
		t.Fatalf("changing the published port: plan %d/%d/%d, want 6 to change only:\n%s", add, change, destroy, out)
	}
	l.must(0, "apply", "-auto-approve", "-var", "hosts=3", "-var", "published_port=8081")
	l.must(0, "test", "-var", "hosts=3", "-var", "published_port=8081")
	l.must(0, "plan", "-detailed-exitcode", "-var", "hosts=3", "-var", "published_port=8081")

	// Back to two hosts: the third host and all on it go.
	out = l.must(2, "plan", "-detailed-exitcode")
	add, change, destroy = planCounts(t, out)
	if add != 0 || destroy != 5 {
		t.Fatalf("removing a host: plan %d/%d/%d, want 5 to destroy:\n%s", add, change, destroy, out)
	}
	l.must(0, "apply", "-auto-approve")
	l.must(0, "test")
	l.must(0, "destroy", "-auto-approve")
	if out := l.must(0, "state", "list"); strings.TrimSpace(out) != "" {
		t.Fatalf("state not empty after destroy:\n%s", out)
	}
}

// ownedPIDs lists the PIDs of processes labnet started for a resource.
func ownedPIDs(t *testing.T, lab, addr string) string {
	t.Helper()
	pids := pidsWhoseEnv(func(env string) bool {
		return strings.Contains(env, "LABNET_OWNER="+lab+"/") && strings.Contains(env, "/"+addr+"\x00")
	})
	if len(pids) == 0 {
		t.Fatalf("no process of %s is running", addr)
	}
	return strings.Join(pids, ",")
}

package acceptance

import (
	"strings"
	"testing"
)

// Every network model of the source document, applied, proven by traffic,
// re-planned (no change), destroyed, and the machine as it was.
func TestLabs(t *testing.T) {
	for _, tc := range []struct {
		lab  string
		vars []string
	}{
		{"bare-metal", nil},
		{"vms", nil},
		{"kubernetes-flat", []string{"-var", "backend=vxlan"}},
		{"kubernetes-flat", []string{"-var", "backend=host-gw"}},
		{"sdn", nil},
		{"routing", nil},
		{"routing", []string{"-var", "protocol=bgp"}},
	} {
		t.Run(strings.Join(append([]string{tc.lab}, tc.vars...), " "), func(t *testing.T) {
			l := newLab(t, tc.lab)
			l.must(0, append([]string{"apply", "-auto-approve"}, tc.vars...)...)
			out := l.must(0, append([]string{"test"}, tc.vars...)...)
			if !strings.Contains(out, " 0 failed") || strings.Contains(out, "steps passed") && !strings.Contains(out, "steps passed, 0 failed, 0 skipped") {
				t.Fatalf("checks:\n%s", out)
			}
			l.must(0, append([]string{"plan", "-detailed-exitcode"}, tc.vars...)...)
			l.must(0, append([]string{"destroy", "-auto-approve"}, tc.vars...)...)
		})
	}
}

// Adding a node to the flat pod network gives it a subnet and updates
// every other node's entries in place, without touching running pods.
func TestKubernetesAddNode(t *testing.T) {
	l := newLab(t, "kubernetes-flat")
	l.must(0, "apply", "-auto-approve")
	before := ownedPIDs(t, l.name, "pod.web[0]/app")
	out := l.must(2, "plan", "-detailed-exitcode", "-var", "nodes=4")
	add, change, destroy := planCounts(t, out)
	// node[3], its pod_net and nat table, two pods and their four containers;
	// the other nodes' pod_net entries and nat tables change in place.
	if destroy != 0 || add != 9 || change != 6 {
		t.Fatalf("adding a node: plan %d/%d/%d, want 9 to add, 6 to change:\n%s", add, change, destroy, out)
	}
	l.must(0, "apply", "-auto-approve", "-var", "nodes=4")
	if after := ownedPIDs(t, l.name, "pod.web[0]/app"); after != before {
		t.Fatalf("a running pod was disturbed: %s -> %s", before, after)
	}
	if out := l.must(0, "test", "-var", "nodes=4"); !strings.Contains(out, " 0 failed") {
		t.Fatalf("checks:\n%s", out)
	}
	l.must(0, "plan", "-detailed-exitcode", "-var", "nodes=4")
}

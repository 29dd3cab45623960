package acceptance

import (
	"strings"
	"testing"
)

// TestLabReadWithAnotherProvider: a lab applied on netns hosts, then read
// with -var provider=lima (the -var of another run, or one forgotten):
// inspect reads the hosts through the provider that made them and says
// the lab now disagrees, instead of reporting every node missing; plan
// shows the replacement the new provider means; graph draws the hosts as
// they were made; exec still reaches them.
func TestLabReadWithAnotherProvider(t *testing.T) {
	l := newLab(t, "docker")
	l.must(0, "apply", "-auto-approve")
	other := []string{"-var", "provider=lima"}

	out, errOut, code := l.run(append([]string{"inspect"}, other...)...)
	if code != 0 || strings.Contains(out, "missing") || strings.Count(out, "running") < 6 ||
		!strings.Contains(errOut, "Warning: host.node[0] was applied with provider netns; the lab now says lima") {
		t.Errorf("inspect with another provider: exit %d\n%s\n%s", code, out, errOut)
	}
	out = l.must(2, append([]string{"plan", "-detailed-exitcode"}, other...)...)
	if !strings.Contains(out, "host.node[0] will be replaced") || !strings.Contains(out, `provider`) ||
		!strings.Contains(out, `"netns" -> "lima"`) || strings.Contains(out, "holder process is gone") {
		t.Errorf("plan with another provider:\n%s", out)
	}
	out, errOut, code = l.run(append([]string{"graph"}, other...)...)
	if code != 0 || !strings.Contains(out, "(netns)") || strings.Contains(out, "(lima)") || !strings.Contains(errOut, "Warning: host.node[1] was applied with provider netns") {
		t.Errorf("graph with another provider: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = l.run(append([]string{"exec"}, append(other, "container.web[0]", "--", "ip", "-4", "-o", "addr", "show", "dev", "eth0")...)...)
	if code != 0 || !strings.Contains(out, "172.17.0.2/16") || !strings.Contains(errOut, "Warning: host.node[0] was applied with provider netns") {
		t.Errorf("exec with another provider: exit %d\n%s\n%s", code, out, errOut)
	}
	// With the -var it was applied with, no warning.
	if _, errOut, _ := l.run("exec", "host.node[0]", "--", "true"); strings.Contains(errOut, "Warning") {
		t.Errorf("exec as applied warns:\n%s", errOut)
	}
	// The lab as applied still plans empty.
	l.must(0, "plan", "-detailed-exitcode")
}

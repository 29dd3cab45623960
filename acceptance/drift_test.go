package acceptance

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDrift: each kind of change made by hand on an applied lab is shown by
// plan with its reason and repaired by apply, after which the checks pass
// and the plan is empty again.
func TestDrift(t *testing.T) {
	l := newLab(t, "docker")
	l.must(0, "apply", "-auto-approve")
	table := "labnet_" + strings.ReplaceAll(l.name, "-", "_")
	ns := func(n string) string { return "ln." + l.name + "." + n }
	for _, tc := range []struct {
		name   string
		host   string // holder to act in ("" for the test itself)
		tamper string
		reason string
	}{
		{"deleted veth", "node-0", "ip link del " + vethOf(t, l, "container.web[0]"), "is missing"},
		{"deleted bridge", "node-1", "ip link del docker0", "bridge docker0 is missing"},
		{"removed address", "node-0", "ip -n " + ns("client-0") + " addr flush dev eth0", "eth0 has []"},
		{"changed address", "node-1", "ip -n " + ns("client-1") + " addr flush dev eth0 && ip -n " + ns("client-1") + " addr add 172.17.9.9/16 dev eth0", "eth0 has [172.17.9.9/16]"},
		{"deleted route", "node-0", "ip -n " + ns("web-0") + " route del default", "default route via 172.17.0.1 is missing"},
		{"link down", "node-1", "ip link set docker0 down", "docker0 is down"},
		{"flushed nft table", "node-0", "nft flush table inet " + table, "rule missing"},
		{"deleted nft table", "node-1", "nft delete table inet " + table, "is missing"},
		{"killed process", "", "process.web[1]", "process is not running"},
		{"deleted netns", "node-0", "ip netns del " + ns("client-0"), "netns " + ns("client-0") + " is missing"},
		{"stopped sshd", "node-1", "kill -9 $(cat /run/labnet-sshd/sshd.pid) && sleep 0.3", "sshd is not running"},
		{"killed holder", "", "holder node-0", "holder process is gone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			switch {
			case tc.host != "":
				hostExec(t, holderPID(t, l.name, tc.host), tc.tamper)
			case strings.HasPrefix(tc.tamper, "holder "):
				pid := holderPID(t, l.name, strings.TrimPrefix(tc.tamper, "holder "))
				kill(t, pid)
			default:
				for _, p := range strings.Split(ownedPIDs(t, l.name, tc.tamper), ",") {
					kill(t, p)
				}
			}
			out := l.must(2, "plan", "-detailed-exitcode")
			if !strings.Contains(out, "Changes outside labnet") || !strings.Contains(out, tc.reason) {
				t.Fatalf("plan does not report %q:\n%s", tc.reason, out)
			}
			l.must(0, "apply", "-auto-approve")
			l.must(0, "plan", "-detailed-exitcode")
			if out := l.must(0, "test"); !strings.Contains(out, "5 passed, 0 failed") {
				t.Fatalf("checks after repair:\n%s", out)
			}
		})
	}
}

func kill(t *testing.T, pid string) {
	t.Helper()
	if err := exec.Command("kill", "-9", pid).Run(); err != nil {
		t.Fatalf("kill %s: %v", pid, err)
	}
}

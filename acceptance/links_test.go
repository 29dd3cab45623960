package acceptance

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLinks: point-to-point links on real kernels. A veth pair on one
// host, a VXLAN tunnel across hosts (full-size frames of its 1450-byte MTU
// cross, one byte more does not), a link to a host itself; traffic keeps
// its source across a router. Then every property of a link is changed by
// hand in turn: plan names it (exit 2), apply repairs it, the checks pass
// and plan is empty. Destroy leaves no interface behind.
func TestLinks(t *testing.T) {
	l := newLab(t, "testdata/links")
	l.must(0, "apply", "-auto-approve")
	if out := l.must(0, "test"); !strings.Contains(out, "6 passed, 0 failed") {
		t.Fatalf("test:\n%s", out)
	}
	l.must(0, "plan", "-detailed-exitcode")
	// inspect lists the links with their ends, one row per host's share.
	inspect := l.must(0, "inspect")
	for _, re := range []string{
		`(?m)^link\.a-r\s+link\s+host\.h\[0\]\s+container\.a:eth1 10\.0\.1\.2/24 \| container\.r:eth1 10\.0\.1\.1/24\s+-\s+running$`,
		`(?m)^link\.r-b/end\[1\]\s+link\s+host\.h\[1\]\s+container\.b:eth1 10\.0\.2\.2/24,10\.0\.20\.2/24 \| vxlan vni \d+ to 192\.168\.94\.11\s+-\s+running$`,
	} {
		if !regexp.MustCompile(re).MatchString(inspect) {
			t.Errorf("inspect has no row matching %s:\n%s", re, inspect)
		}
	}
	in := func(node, script string) func(t *testing.T) {
		return func(t *testing.T) {
			t.Helper()
			l.must(0, "exec", node, "--", "sh", "-c", script)
		}
	}
	for _, tc := range []struct {
		name    string
		tamper  func(t *testing.T)
		reasons []string
	}{
		{"end down", in("container.r", "ip link set eth2 down"), []string{"eth2 in ln." + l.name + ".r is down"}},
		{"end MTU", in("container.b", "ip link set eth1 mtu 1400"), []string{"has MTU 1400, wants 1450"}},
		{"end MAC", in("container.a", "ip link set eth1 address 02:00:00:00:00:09"), []string{"has MAC 02:00:00:00:00:09"}},
		{"extra address", in("container.a", "ip addr add 10.0.1.99/24 dev eth1"), []string{"has [10.0.1.2/24 10.0.1.99/24], wants [10.0.1.2/24]"}},
		{"mark", in("container.r", "ip link set eth1 alias someone"), []string{`is not marked as labnet's (alias "someone")`}},
		{"default route", in("container.a", "ip route del default"), []string{"default route via 10.0.1.1 on eth1 in ln." + l.name + ".a is missing"}},
		{"rewired veth", in("container.a", "ip link del eth1 && ip link add eth1 type veth peer name eth9 && ip link set eth1 up"),
			[]string{"eth1 in ln." + l.name + ".r is missing"}},
		{"tunnel elsewhere", in("container.b", "ip link del eth1 && ip link add eth1 type vxlan id 99 local 192.168.94.12 remote 192.168.94.99 dstport 8472 && ip link set eth1 up"),
			[]string{"has VNI 99, wants", "has UDP port 8472, wants 4789", "has remote 192.168.94.99, wants 192.168.94.11"}},
		{"end shaping", in("container.a", "tc qdisc replace dev eth1 root tbf rate 10mbit burst 16k latency 50ms"),
			[]string{"eth1 in ln." + l.name + ".a has tbf rate 10mbit, wants tbf rate 200mbit"}},
		{"end shaping gone", in("container.r", "tc qdisc del dev eth1 root"),
			[]string{"eth1 in ln." + l.name + ".r has no tbf rate 200mbit (its root qdisc is noqueue)"}},
		{"host end down", func(t *testing.T) { hostExec(t, holderPID(t, l.name, "h-0"), "ip link set lk0 down") }, []string{"lk0 on the host is down"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.tamper(t)
			out := l.must(2, "plan", "-detailed-exitcode")
			for _, r := range tc.reasons {
				if !strings.Contains(out, r) {
					t.Fatalf("plan does not report %q:\n%s", r, out)
				}
			}
			l.must(0, "apply", "-auto-approve")
			l.must(0, "plan", "-detailed-exitcode")
			if out := l.must(0, "test"); !strings.Contains(out, "6 passed, 0 failed") {
				t.Fatalf("checks after repair:\n%s", out)
			}
		})
	}
	// Two veths that are not each other's peer: each end is there, well
	// named and addressed, but nothing crosses.
	t.Run("ends of two pairs", func(t *testing.T) {
		hostExec(t, holderPID(t, l.name, "h-0"), `set -e
ip -n ln.`+l.name+`.a link del eth1
ip link add lnt-x netns ln.`+l.name+`.a type veth peer name lnt-y
ip link add lnt-z netns ln.`+l.name+`.r type veth peer name lnt-w
ip -n ln.`+l.name+`.a link set lnt-x name eth1
ip -n ln.`+l.name+`.r link set lnt-z name eth1`)
		out := l.must(2, "plan", "-detailed-exitcode")
		if !strings.Contains(out, "are not each other's peer") || !strings.Contains(out, "link.a-r will be replaced") {
			t.Fatalf("plan does not replace the miswired pair:\n%s", out)
		}
		l.must(0, "apply", "-auto-approve")
		l.must(0, "plan", "-detailed-exitcode")
		hostExec(t, holderPID(t, l.name, "h-0"), "for l in lnt-y lnt-w; do ! ip link show dev $l 2>/dev/null || ip link del $l; done")
		if out := l.must(0, "test"); !strings.Contains(out, "6 passed, 0 failed") {
			t.Fatalf("checks after repair:\n%s", out)
		}
	})
	l.must(0, "destroy", "-auto-approve")
}

// TestScenarios: a scenario's steps run in order under labnet test, each a
// row and a JUnit case; one that fails skips the rest and its faults are
// undone at its end. labnet fault does the same faults by hand; plan shows
// them as drift until they are undone.
func TestScenarios(t *testing.T) {
	l := newLab(t, "testdata/links")
	l.must(0, "apply", "-auto-approve")
	junit := filepath.Join(t.TempDir(), "report.xml")
	out := l.must(0, "test", "-junit", junit)
	for _, re := range []string{
		`(?m)^failover #1: link\.r-b down\s+link\.r-b down\s+\S+\s+pass$`,
		`(?m)^failover #2: cut off\s+checks\s+\S+\s+pass$`,
		`(?m)^failover #4: check\.b-back\s+checks\s+\S+\s+pass$`,
		`6 passed, 0 failed`, `4 steps passed, 0 failed, 0 skipped`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("test output does not match %s:\n%s", re, out)
		}
	}
	if strings.Contains(out, "b-cut  ") {
		t.Errorf("a check the scenario names ran among the lab's checks:\n%s", out)
	}
	x, err := os.ReadFile(junit)
	if err != nil || !strings.Contains(string(x), `name="failover #3: link.r-b up"`) || !strings.Contains(string(x), `tests="10"`) {
		t.Errorf("JUnit report lacks the steps (%v):\n%s", err, x)
	}
	l.must(0, "plan", "-detailed-exitcode")

	// A scenario that fails: the rest is skipped, the link brought back.
	extra, err := os.ReadFile("testdata/links/broken.hcl.txt")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l.dir, "broken.hcl"), extra, 0o644); err != nil {
		t.Fatal(err)
	}
	out = l.must(1, "test", "-run", "^left-broken$")
	for _, re := range []string{
		`(?m)^left-broken #2: check\.b-now\s+checks\s+\S+\s+FAIL$`,
		`(?m)^left-broken #3: container\.r stop\s+skipped\s+0s\s+skipped$`,
		`1 steps passed, 1 failed, 1 skipped`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("test output does not match %s:\n%s", re, out)
		}
	}
	l.must(0, "plan", "-detailed-exitcode") // undone at the scenario's end
	if err := os.Remove(filepath.Join(l.dir, "broken.hcl")); err != nil {
		t.Fatal(err)
	}

	// The same faults by hand.
	l.must(0, "fault", "link.r-b", "down")
	if out := l.must(2, "plan", "-detailed-exitcode"); !strings.Contains(out, "eth1 in ln."+l.name+".b is down") ||
		!strings.Contains(out, "eth2 in ln."+l.name+".r is down") {
		t.Errorf("plan does not show the link down on both hosts:\n%s", out)
	}
	l.must(0, "fault", "link.r-b", "up")
	l.must(0, "plan", "-detailed-exitcode")
	l.must(0, "fault", "link.r-b", "rate=1mbit")
	if out := l.must(2, "plan", "-detailed-exitcode"); !strings.Contains(out, "eth1 in ln."+l.name+".b has a tbf qdisc the lab does not ask for") {
		t.Errorf("plan does not show the shaping fault:\n%s", out)
	}
	l.must(0, "fault", "link.r-b", "unshape")
	l.must(0, "plan", "-detailed-exitcode")
	if _, stderr, code := l.run("fault", "link.r-b", "rate=fast"); code != 1 || !strings.Contains(stderr, "rate=fast: not a number") {
		t.Errorf("fault rate=fast: exit %d:\n%s", code, stderr)
	}
	l.must(0, "fault", "container.r", "stop")
	if out := l.must(2, "plan", "-detailed-exitcode"); !strings.Contains(out, "process.forward has changed") {
		t.Errorf("plan does not show the stopped process:\n%s", out)
	}
	l.must(0, "fault", "container.r", "start")
	l.must(0, "plan", "-detailed-exitcode")
	for _, tc := range []struct{ args, msg string }{
		{"link.r-b explode", `link.r-b has no fault "explode"; its faults are: down, up, shape, unshape`},
		{"container.nope stop", "no applied resource container.nope"},
		{"container.web stop", "container.web: nothing there to stop"},
		{"network.lan down", "network.lan has no faults"},
	} {
		_, stderr, code := l.run(append([]string{"fault"}, strings.Fields(tc.args)...)...)
		if code != 1 || !strings.Contains(stderr, tc.msg) {
			t.Errorf("fault %s: exit %d, want 1 and %q:\n%s", tc.args, code, tc.msg, stderr)
		}
	}
	if out := l.must(0, "test"); !strings.Contains(out, "6 passed, 0 failed") {
		t.Fatalf("checks after the faults:\n%s", out)
	}
}

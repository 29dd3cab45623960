package acceptance

import (
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

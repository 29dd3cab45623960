package acceptance

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDrift: each kind of change made by hand on an applied lab is shown by
// plan with its reason and repaired by apply, after which the checks pass
// and the plan is empty again.
func TestDrift(t *testing.T) {
	l := newLab(t, "docker")
	// A process beside the lab's image containers, for the processes' drift.
	if err := os.WriteFile(filepath.Join(l.dir, "probe.hcl"), []byte("process \"probe\" {\n  on      = host.node[0]\n  command = [\"sleep\", \"1000000\"]\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
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
		{"bridge MTU", "node-1", "ip link set docker0 mtu 1400", "docker0 has MTU 1400, wants 1500"},
		{"bridge MAC", "node-0", "ip link set docker0 address 02:00:00:00:00:99", "docker0 has MAC 02:00:00:00:00:99"},
		{"eth0 MTU", "node-0", "ip -n " + ns("client-0") + " link set eth0 mtu 1400", "eth0 has MTU 1400, wants 1500"},
		{"eth0 MAC", "node-1", "ip -n " + ns("web-1") + " link set eth0 address 02:00:00:00:00:98", "eth0 has MAC 02:00:00:00:00:98"},
		{"veth moved to another bridge", "node-0", "ip link add lnt-other type bridge && ip link set " + vethOf(t, l, "container.web[0]") + " master lnt-other", "is not on bridge docker0"},
		{"flushed nft table", "node-0", "nft flush table inet " + table, "rule missing"},
		{"deleted nft table", "node-1", "nft delete table inet " + table, "is missing"},
		{"killed container", "", "container.web[1]", "runc container labnet." + l.name + ".web-1 stopped"},
		{"killed process", "", "process.probe", "process is not running"},
		// Another program under the process's owner mark: its spec mark says
		// it is not what the lab started.
		{"process replaced by another command", "", "replace process.probe", "process was started from another command or namespaces"},
		{"deleted netns", "node-0", "ip netns del " + ns("client-0"), "netns " + ns("client-0") + " is missing"},
		{"stopped sshd", "node-1", "kill -9 $(cat /run/labnet-sshd/sshd.pid) && sleep 0.3", "sshd is not running"},
		{"killed holder", "", "holder node-0", "holder process is gone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			switch {
			case tc.host != "":
				hostExec(t, holderPID(t, l.name, tc.host), tc.tamper)
			case strings.HasPrefix(tc.tamper, "replace "):
				addr := strings.TrimPrefix(tc.tamper, "replace ")
				for _, p := range strings.Split(ownedPIDs(t, l.name, addr), ",") {
					kill(t, p)
				}
				hostExec(t, holderPID(t, l.name, "node-0"), "(env LABNET_OWNER='"+l.name+"/node-0/"+addr+"' LABNET_SPEC=0000000000000000 setsid sleep 600 </dev/null >/dev/null 2>&1 &)")
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

// TestDriftFlatVXLAN: the flannel-style VXLAN device replaced by hand with
// one of the same name, address, MAC and MTU but another VNI and UDP port
// carries nothing to the other nodes: plan must say so (it said "No
// changes" while pods could not reach each other), and apply must remake
// it with its neighbour, fdb and route entries. Likewise its MTU and cni0's.
func TestDriftFlatVXLAN(t *testing.T) {
	l := newLab(t, "kubernetes-flat")
	l.must(0, "apply", "-auto-approve")
	const remake = `mac=$(cat /sys/class/net/flannel.1/address)
a=$(ip -4 -o addr show dev flannel.1 | awk '{print $4}')
local=$(ip -d -o link show dev flannel.1 | sed -n 's/.* local \([0-9.]*\) .*/\1/p')
ip link del flannel.1
ip link add flannel.1 type vxlan id 99 local "$local" dstport 4789 nolearning
ip link set flannel.1 address "$mac" mtu 1450 up
ip addr add "$a" dev flannel.1`
	for _, tc := range []struct {
		name, host, tamper string
		reasons            []string
	}{
		{"other VNI and port", "node-0", remake, []string{"flannel.1 has VNI 99, wants 1", "flannel.1 has UDP port 4789, wants 8472"}},
		{"vxlan MTU", "node-1", "ip link set flannel.1 mtu 1300", []string{"flannel.1 has MTU 1300, wants 1450"}},
		{"cni0 MTU", "node-0", "ip link set cni0 mtu 1400", []string{"cni0 has MTU 1400, wants 1450"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hostExec(t, holderPID(t, l.name, tc.host), tc.tamper)
			out := l.must(2, "plan", "-detailed-exitcode")
			for _, r := range tc.reasons {
				if !strings.Contains(out, r) {
					t.Fatalf("plan does not report %q:\n%s", r, out)
				}
			}
			l.must(0, "apply", "-auto-approve")
			l.must(0, "plan", "-detailed-exitcode")
			if out := l.must(0, "test"); !strings.Contains(out, "7 passed, 0 failed") {
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

// TestStrayVethOfGoingGuest: a guest's namespace unmounted by hand while a
// process still holds it leaves its veth on the bridge. Refresh lists the
// namespaces only, so removing that guest must read its veth in a second
// exchange (hostnet.Reads.Strays), plan its deletion (not "already gone")
// and delete it.
func TestStrayVethOfGoingGuest(t *testing.T) {
	l := newBenchLab(t, "scale")
	l.must(0, "apply", "-auto-approve", "-var", "n=2")
	veth, ns := vethOf(t, l, "container.c[1]"), "ln."+l.name+".c-1"
	holder := holderPID(t, l.name, "h")
	out, err := exec.Command("nsenter", "-t", holder, "-n", "-m", "-r", "-w", "sh", "-c",
		"ip netns exec "+ns+" sleep 600 </dev/null >/dev/null 2>&1 & p=$!; echo $p\n"+
			"until [ \"$(ip netns identify $p)\" = "+ns+" ]; do sleep 0.05; done; ip netns del "+ns).CombinedOutput()
	if err != nil {
		t.Fatalf("hold and unmount %s: %v: %s", ns, err, out)
	}
	sleeper := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("kill", "-9", sleeper).Run() })
	hostExec(t, holder, "ip link show dev "+veth) // still there
	out2 := l.must(2, "plan", "-detailed-exitcode", "-var", "n=1")
	if !strings.Contains(out2, "container.c[1]") || strings.Contains(out2, "already gone") {
		t.Fatalf("plan of the removal does not delete the stray veth's guest:\n%s", out2)
	}
	l.must(0, "apply", "-auto-approve", "-var", "n=1")
	if err := exec.Command("nsenter", "-t", holder, "-n", "-m", "-r", "-w", "ip", "link", "show", "dev", veth).Run(); err == nil {
		t.Errorf("veth %s of the removed guest is still on the host", veth)
	}
	l.must(0, "plan", "-detailed-exitcode", "-var", "n=1")
}

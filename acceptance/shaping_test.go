package acceptance

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sendTime sends n bytes from container.sender to the sink on
// container.receiver and returns how long the transfer took, until the
// sink had read them all.
func sendTime(t *testing.T, l *lab, n int) time.Duration {
	t.Helper()
	const sender = `import socket, sys, time
n = int(sys.argv[1])
s = socket.create_connection(("10.77.0.3", 5001), timeout=30)
start = time.time()
s.sendall(b"x" * n)
s.shutdown(socket.SHUT_WR)
got = s.recv(64).decode()
print(got, time.time() - start)
`
	var out string
	for try := 0; ; try++ {
		o, _, code := l.run("exec", "container.sender", "--", "python3", "-c", sender, strconv.Itoa(n))
		if code == 0 {
			out = o
			break
		}
		// The sink may still be starting right after an apply.
		if try == 10 {
			t.Fatalf("sender failed")
		}
		time.Sleep(300 * time.Millisecond)
	}
	var got int
	var secs float64
	if _, err := fmt.Sscan(out, &got, &secs); err != nil || got != n {
		t.Fatalf("sender printed %q, want %d and a time", out, n)
	}
	return time.Duration(secs * float64(time.Second))
}

// qdisc is what tc says of the sender's eth0.
func qdisc(t *testing.T, l *lab) string {
	t.Helper()
	return l.must(0, "exec", "container.sender", "--", "tc", "qdisc", "show", "dev", "eth0", "root")
}

// TestShaping: rate = "10mbit" really limits what a container sends, the
// plan is empty after apply, a rate change is an in-place update,
// removing the rate removes the qdisc, a qdisc deleted by hand is drift,
// and delay on a kernel without netem fails naming the host.
func TestShaping(t *testing.T) {
	l := newLab(t, "testdata/shaping")
	l.must(0, "apply", "-auto-approve")
	l.must(0, "plan", "-detailed-exitcode")
	if q := qdisc(t, l); !strings.Contains(q, "qdisc tbf") || !strings.Contains(q, "rate 10Mbit") {
		t.Fatalf("sender's qdisc:\n%s", q)
	}
	if out := l.must(0, "output", "-json", "sender_shaping"); strings.Join(strings.Fields(out), "") != `["10mbit","0s",null]` {
		t.Errorf("sender_shaping = %s", out)
	}

	// 2 MB at 10 Mbit/s take 1.6 s; the bucket (16 KiB) barely helps.
	const size = 2_000_000
	if d := sendTime(t, l, size); d < 1200*time.Millisecond || d > 8*time.Second {
		t.Fatalf("2 MB at 10mbit took %v, want about 1.6 s", d)
	}

	// A new rate is an in-place update of the sender alone.
	out := l.must(2, "plan", "-detailed-exitcode", "-var", "rate=40mbit")
	if a, c, d := planCounts(t, out); a != 0 || c != 1 || d != 0 ||
		!strings.Contains(out, "container.sender will be updated in place") || !strings.Contains(out, `~ rate          = "10mbit" -> "40mbit"`) {
		t.Fatalf("plan for a new rate:\n%s", out)
	}
	l.must(0, "apply", "-auto-approve", "-var", "rate=40mbit")
	l.must(0, "plan", "-detailed-exitcode", "-var", "rate=40mbit")
	if q := qdisc(t, l); !strings.Contains(q, "rate 40Mbit") {
		t.Fatalf("sender's qdisc after the change:\n%s", q)
	}
	if d := sendTime(t, l, size); d < 300*time.Millisecond || d > 1200*time.Millisecond {
		t.Errorf("2 MB at 40mbit took %v, want about 0.4 s", d)
	}

	// A qdisc deleted by hand is drift, repaired in place.
	l.must(0, "exec", "container.sender", "--", "tc", "qdisc", "del", "dev", "eth0", "root")
	out = l.must(2, "plan", "-detailed-exitcode", "-var", "rate=40mbit")
	if a, c, d := planCounts(t, out); a != 0 || c != 1 || d != 0 || !strings.Contains(out, "eth0 has no tbf rate 40mbit (its root qdisc is noqueue)") {
		t.Fatalf("plan after deleting the qdisc by hand:\n%s", out)
	}
	l.must(0, "apply", "-auto-approve", "-var", "rate=40mbit")
	l.must(0, "plan", "-detailed-exitcode", "-var", "rate=40mbit")
	if q := qdisc(t, l); !strings.Contains(q, "rate 40Mbit") {
		t.Fatalf("sender's qdisc after the repair:\n%s", q)
	}

	// No rate: the tbf goes, the link runs at veth speed.
	out = l.must(2, "plan", "-detailed-exitcode", "-var", "rate=")
	if a, c, d := planCounts(t, out); a != 0 || c != 1 || d != 0 {
		t.Fatalf("plan without rate:\n%s", out)
	}
	l.must(0, "apply", "-auto-approve", "-var", "rate=")
	l.must(0, "plan", "-detailed-exitcode", "-var", "rate=")
	if q := qdisc(t, l); strings.Contains(q, "tbf") || strings.Contains(q, "netem") {
		t.Fatalf("sender's qdisc without rate:\n%s", q)
	}
	if d := sendTime(t, l, size); d > 600*time.Millisecond {
		t.Errorf("2 MB unshaped took %v, want well under 1 s", d)
	}

	// delay needs netem: without it (this machine's kernel) plan and apply
	// stop before changing anything, naming the host and the module.
	out, errOut, code := l.run("apply", "-auto-approve", "-var", "rate=", "-var", "delay=20ms")
	if code == 0 {
		if q := qdisc(t, l); !strings.Contains(q, "netem") || !strings.Contains(q, "delay 20ms") {
			t.Fatalf("apply with delay succeeded, but the qdisc is:\n%s", q)
		}
		t.Logf("this kernel has netem; delay applied")
		l.must(0, "plan", "-detailed-exitcode", "-var", "rate=", "-var", "delay=20ms")
		return
	}
	want := "delay and loss need the kernel's netem qdisc (sch_netem), which host.node[0] lacks"
	if !strings.Contains(errOut, want) {
		t.Errorf("apply with delay: exit %d, error lacks %q:\n%s%s", code, want, out, errOut)
	}
	if _, errOut, code := l.run("plan", "-var", "rate=", "-var", "delay=20ms"); code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("plan with delay: exit %d: %s", code, errOut)
	}
	// Nothing else changed: the unshaped lab is still what the state says.
	l.must(0, "plan", "-detailed-exitcode", "-var", "rate=")
}

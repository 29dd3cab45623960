package acceptance

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUserCommands: inspect, exec, capture, -target, -replace and the JSON
// event stream on a running lab.
func TestUserCommands(t *testing.T) {
	l := newLab(t, "docker")

	// -target makes only the target and what it needs.
	out := l.must(0, "apply", "-auto-approve", "-target=container.web[1]")
	if list := l.must(0, "state", "list"); !strings.Contains(list, "container.web[1]") || strings.Contains(list, "container.web[0]") || strings.Contains(list, "container.client[1]") {
		t.Fatalf("-target applied the wrong resources:\n%s\n%s", list, out)
	}

	// The JSON stream: one event per line, then a summary.
	out = l.must(0, "apply", "-json")
	sc := bufio.NewScanner(strings.NewReader(out))
	var events, done int
	var summary map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON lines: %q", sc.Text())
		}
		events++
		if m["phase"] == "done" {
			done++
		}
		if m["type"] == "summary" {
			summary = m
		}
	}
	if summary == nil || summary["ok"] != true || done == 0 {
		t.Fatalf("apply -json: %d events, summary %v\n%s", events, summary, out)
	}

	// Progress lines, Terraform-style, one as each resource starts and ends.
	out = l.must(0, "apply", "-auto-approve", "-replace=container.client[1]")
	for _, want := range []string{"container.client[1]: Destroying...", "container.client[1]: Creating...", "container.client[1]: Creation complete after "} {
		if !strings.Contains(out, want) {
			t.Errorf("apply progress lacks %q:\n%s", want, out)
		}
	}
	if out = l.must(0, "apply", "-auto-approve", "-quiet", "-replace=container.client[1]"); strings.Contains(out, "Creating...") {
		t.Errorf("-quiet still prints progress:\n%s", out)
	}

	// ssh without a terminal runs the shell on stdin, in the node.
	cmd := exec.Command(labnetBin, "-chdir="+l.dir, "ssh", "container.web[0]")
	cmd.Stdin = strings.NewReader("ip -4 -o addr show dev eth0\nexit 4\n")
	sshOut, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 4 || !strings.Contains(string(sshOut), "172.17.0.2/16") {
		t.Fatalf("labnet ssh: %v\n%s", err, sshOut)
	}

	// inspect reads the nodes live.
	out = l.must(0, "inspect")
	if !strings.Contains(out, "container.web[0]") || !strings.Contains(out, "8080/tcp->80") || strings.Count(out, "running") < 6 {
		t.Fatalf("inspect:\n%s", out)
	}
	pid := holderPID(t, l.name, "node-1")
	hostExec(t, pid, "ip link set "+vethOf(t, l, "container.client[1]")+" down")
	if out = l.must(0, "inspect"); !strings.Contains(out, "drifted") || !strings.Contains(out, "is down") {
		t.Fatalf("inspect does not show drift:\n%s", out)
	}
	l.must(0, "apply", "-auto-approve")

	// exec passes output and exit codes through, in the right namespace.
	if out = l.must(0, "exec", "container.web[1]", "--", "ip", "-4", "-o", "addr", "show", "dev", "eth0"); !strings.Contains(out, "172.17.0.2/16") {
		t.Fatalf("exec:\n%s", out)
	}
	l.must(3, "exec", "host.node[0]", "--", "sh", "-c", "exit 3")

	// capture streams pcap from inside a node while traffic flows.
	pcap := filepath.Join(t.TempDir(), "c.pcap")
	cmd = exec.Command(labnetBin, "-chdir="+l.dir, "capture", "-w", pcap, "container.web[0]", "tcp", "port", "8000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		l.run("exec", "container.client[0]", "--", "wget", "-q", "-O", "/dev/null", "http://172.17.0.2:8000/") // the image's
		if st, err := os.Stat(pcap); err == nil && st.Size() > 200 {
			break
		}
	}
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	if st, err := os.Stat(pcap); err != nil || st.Size() <= 24 {
		t.Fatalf("capture wrote no packets: %v", err)
	}
	b, _ := os.ReadFile(pcap)
	if len(b) < 4 || !(b[0] == 0xd4 && b[1] == 0xc3 || b[0] == 0xa1 && b[1] == 0xb2) {
		t.Fatalf("not a pcap file: % x", b[:min(4, len(b))])
	}
	// A capture that hears nothing never writes, so its tcpdump does not
	// learn that the session closed: destroy must still end it (by the
	// owner mark its command carries). Its port makes it this test's.
	silent := fmt.Sprintf("port %d", 40000+os.Getpid()%20000)
	cmd = exec.Command(labnetBin, "-chdir="+l.dir, "capture", "-w", filepath.Join(t.TempDir(), "s.pcap"), "container.web[0]", "udp", silent)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	defer func() {
		l.must(0, "destroy", "-auto-approve")
		for _, pid := range pidsWhoseEnv(func(string) bool { return true }) {
			if c, _ := os.ReadFile("/proc/" + pid + "/cmdline"); bytes.Contains(c, []byte("tcpdump")) && bytes.Contains(bytes.ReplaceAll(c, []byte{0}, []byte{' '}), []byte(silent)) {
				t.Errorf("tcpdump of a silent capture (pid %s) outlived destroy", pid)
				_ = exec.Command("kill", "-9", pid).Run()
			}
		}
	}()

	// -replace remakes one resource and nothing else.
	before := ownedPIDs(t, l.name, "container.web[1]")
	out = l.must(0, "apply", "-auto-approve", "-replace=container.web[0]")
	l.must(0, "plan", "-detailed-exitcode")
	if after := ownedPIDs(t, l.name, "container.web[1]"); after != before {
		t.Fatalf("-replace of container.web[0] restarted container.web[1]")
	}
	if !strings.Contains(out, "1 added, 0 changed, 1 destroyed") {
		t.Fatalf("-replace:\n%s", out)
	}
}

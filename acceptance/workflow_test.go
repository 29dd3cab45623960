package acceptance

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWorkflow drives the commands a user runs around apply: the
// confirmation prompt, saved plans (and refusing a stale one), JUnit
// output, drift shown by plan and repaired by apply, and a destroy with a
// lost state that still finds everything by its marks.
func TestWorkflow(t *testing.T) {
	l := newLab(t, "docker")
	one := []string{"-var", "hosts=2"}

	// Without -auto-approve apply asks; anything but "yes" cancels.
	out, _, code := l.run(append([]string{"apply"}, one...)...)
	if code != 1 || !strings.Contains(out, "Do you want to perform these actions?") || !strings.Contains(out, "cancelled") {
		t.Fatalf("apply without approval: exit %d\n%s", code, out)
	}
	if st := l.must(0, "state", "list"); st != "" {
		t.Fatalf("a cancelled apply changed the state:\n%s", st)
	}

	// A saved plan applies; once the state moved on, the same plan is refused.
	planFile := filepath.Join(t.TempDir(), "lab.plan")
	l.must(2, append([]string{"plan", "-detailed-exitcode", "-out=" + planFile}, one...)...)
	l.must(0, "apply", planFile)
	_, errOut, code := l.run("apply", planFile)
	if code != 1 || !strings.Contains(errOut, "stale") {
		t.Fatalf("stale plan applied: exit %d: %s", code, errOut)
	}

	// JUnit report.
	junit := filepath.Join(t.TempDir(), "checks.xml")
	out, _, _ = l.run(append([]string{"test", "-junit=" + junit}, one...)...)
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suite struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Cases    []struct {
			Name string `xml:"name,attr"`
		} `xml:"testcase"`
	}
	if err := xml.Unmarshal(b, &suite); err != nil || suite.Tests == 0 || len(suite.Cases) != suite.Tests {
		t.Fatalf("junit: %v %+v\n%s", err, suite, b)
	}
	_ = out

	// Drift: delete a container's veth on the host (through the host's own
	// namespace, as a user with a shell there would), kill a container's
	// processes, flush the nat table. Plan names each with a reason; apply repairs them.
	pid := holderPID(t, l.name, "node-0")
	hostExec(t, pid, "ip link del "+vethOf(t, l, "container.client[0]"))
	hostExec(t, pid, "nft flush table inet labnet_"+strings.ReplaceAll(l.name, "-", "_"))
	for _, p := range strings.Split(ownedPIDs(t, l.name, "container.web[0]"), ",") {
		exec.Command("kill", "-9", p).Run()
	}
	out = l.must(2, append([]string{"plan", "-detailed-exitcode"}, one...)...)
	for _, want := range []string{"container.client[0] has changed", "is missing", "container.web[0] has changed", "runc container labnet." + l.name + ".web-0 stopped", "rule missing: dnat tcp"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan does not report %q:\n%s", want, out)
		}
	}
	out = l.must(0, append([]string{"plan", "-refresh-only", "-detailed-exitcode"}, one...)...)
	if !strings.Contains(out, "Changes outside labnet") || !strings.Contains(out, "No changes") {
		t.Errorf("plan -refresh-only:\n%s", out)
	}
	l.must(0, append([]string{"apply", "-auto-approve"}, one...)...)
	l.must(0, append([]string{"plan", "-detailed-exitcode"}, one...)...)

	// Lost state: destroy still removes everything the lab's marks name.
	if err := os.Remove(filepath.Join(l.dir, ".labnet", "state.json")); err != nil {
		t.Fatal(err)
	}
	l.must(0, append([]string{"destroy", "-auto-approve"}, one...)...)
	// newLab's cleanup proves the machine is as it was.
}

func holderPID(t *testing.T, lab, host string) string {
	t.Helper()
	pids := holderPIDs(lab, host)
	if len(pids) == 0 {
		t.Fatalf("no holder for %s", host)
	}
	return pids[0]
}

// holderPIDs lists the holder processes of a netns host.
func holderPIDs(lab, host string) []string {
	mark := "LABNET_OWNER=" + lab + "/" + host + "/holder\x00"
	return pidsWhoseEnv(func(env string) bool { return strings.Contains(env, mark) })
}

// hostExec runs a shell command inside a netns host, as root on it would,
// and returns its output.
func hostExec(t *testing.T, pid, cmd string) string {
	t.Helper()
	out, err := exec.Command("nsenter", "-t", pid, "-n", "-m", "-r", "-w", "sh", "-c", cmd).CombinedOutput()
	if err != nil {
		t.Fatalf("on host: %s: %v: %s", cmd, err, out)
	}
	return string(out)
}

func vethOf(t *testing.T, l *lab, addr string) string {
	t.Helper()
	out := l.must(0, "show")
	i := strings.Index(out, "# "+addr+"\n")
	if i < 0 {
		t.Fatalf("%s not in show:\n%s", addr, out)
	}
	for _, line := range strings.Split(out[i:], "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "veth" {
			return strings.Trim(f[2], `"`)
		}
	}
	t.Fatalf("no veth for %s", addr)
	return ""
}

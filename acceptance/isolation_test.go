package acceptance

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestIsolatedContainers: two containers whose processes write their PID
// to the same path each keep their own (private dirs), and the host's path
// stays absent; each has its own hostname; a file changed in the lab is an
// update of its container that restarts its process only; a file deleted
// or a private dir unmounted by hand is drift that apply repairs; a
// container made again (its private dirs changed) and destroy leave no
// mount, namespace file, namespace or process behind.
func TestIsolatedContainers(t *testing.T) {
	l := newLab(t, "testdata/isolation")
	l.must(0, "apply", "-auto-approve")
	holder := holderPID(t, l.name, "h")
	nsDir := "/run/labnet/" + l.name + "/ns"
	in := func(node string, argv ...string) string {
		t.Helper()
		return strings.TrimSpace(l.must(0, append([]string{"exec", node, "--"}, argv...)...))
	}

	// Hostnames, and one /var/run/demo/pid per container.
	for _, c := range []string{"a", "b"} {
		if got := in("container."+c, "hostname"); got != c {
			t.Errorf("hostname of container.%s: %q", c, got)
		}
	}
	// Its hostname resolves without DNS: looking its own name up (as
	// python's http.server does when it starts) took 10 s of DNS timeouts.
	if got := strings.Fields(in("container.a", "getent", "hosts", "a")); len(got) != 2 || got[0] != "127.0.1.1" {
		t.Errorf("getent hosts a in container.a: %q", got)
	}
	start := time.Now()
	in("container.a", "python3", "-c", "import socket; socket.getfqdn('')")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("container.a looked its own name up in %v", d)
	}
	pidA, pidB := ownedPIDs(t, l.name, "process.a"), ownedPIDs(t, l.name, "process.b")
	if a, b := in("container.a", "cat", "/var/run/demo/pid"), in("container.b", "cat", "/var/run/demo/pid"); a != pidA || b != pidB || a == b {
		t.Fatalf("/var/run/demo/pid: container.a has %q (its process %s), container.b %q (its process %s)", a, pidA, b, pidB)
	}
	if got := hostExec(t, holder, "if [ -e /var/run/demo/pid ]; then echo there; else echo absent; fi"); got != "absent\n" {
		t.Errorf("the host's /var/run/demo/pid is %s", got)
	}
	if _, err := os.Stat("/var/run/demo/pid"); err == nil {
		t.Errorf("the machine's /var/run/demo/pid exists")
	}
	// Each private dir is labnet's tmpfs in the container's view, with
	// propagation private (no shared: or master: tag).
	for _, line := range strings.Split(in("container.a", "grep", "-E", " /run/(demo|democonf) ", "/proc/self/mountinfo"), "\n") {
		if !strings.Contains(line, " - tmpfs labnet ") || strings.Contains(line, "shared:") || strings.Contains(line, "master:") {
			t.Errorf("private dir mount: %q", line)
		}
	}
	if got := in("container.a", "cat", "/run/democonf/greeting"); got != "one" {
		t.Errorf("greeting %q", got)
	}
	if got := in("container.a", "stat", "-c", "%a", "/run/democonf/greeting"); got != "640" {
		t.Errorf("greeting mode %s", got)
	}
	// labnet ssh lands in the same place.
	if out := sshIn(t, l, "container.b", "hostname; cat /var/run/demo/pid\n"); out != "b\n"+pidB+"\n" {
		t.Errorf("labnet ssh container.b: %q", out)
	}
	seen := map[string]bool{} // every namespace the containers had: none may outlive destroy
	for _, pid := range []string{pidA, pidB} {
		for _, ns := range nsOf(t, pid) {
			seen[ns] = true
		}
	}

	// A file changes: an update of its container, the process on it
	// restarted, the other left alone.
	two := []string{"-var", "greeting=two"}
	out := l.must(2, append([]string{"plan", "-detailed-exitcode"}, two...)...)
	if add, change, destroy := planCounts(t, out); add != 1 || change != 1 || destroy != 1 ||
		!strings.Contains(out, "  ~ container.a on host.h") || !strings.Contains(out, "~ file:/run/democonf/greeting") ||
		!strings.Contains(out, "-/+ process.a on host.h") || strings.Contains(out, "container.b") || strings.Contains(out, "process.b") {
		t.Fatalf("plan of a changed file:\n%s", out)
	}
	l.must(0, append([]string{"apply", "-auto-approve"}, two...)...)
	newA := ownedPIDs(t, l.name, "process.a")
	if newA == pidA || ownedPIDs(t, l.name, "process.b") != pidB {
		t.Errorf("after the file changed: process.a %s -> %s (must restart), process.b %s -> %s (must not)", pidA, newA, pidB, ownedPIDs(t, l.name, "process.b"))
	}
	if got := in("container.a", "cat", "/run/democonf/greeting"); got != "two" {
		t.Errorf("greeting after the change: %q", got)
	}
	if got := in("container.a", "cat", "/var/run/demo/pid"); got != newA {
		t.Errorf("container.a's pid file %q, its new process %s", got, newA)
	}
	l.must(0, append([]string{"plan", "-detailed-exitcode"}, two...)...)

	// Drift: a file deleted inside, a private dir unmounted.
	for _, tc := range []struct{ node, tamper, reason, proof string }{
		{"a", "rm /run/democonf/greeting", "file /run/democonf/greeting is missing", "cat /run/democonf/greeting"},
		{"b", "umount -l /var/run/demo", "private dir /var/run/demo is not mounted", "grep -c ' /run/demo .* - tmpfs labnet ' /proc/self/mountinfo"},
	} {
		hostExec(t, holder, "nsenter --mount="+nsDir+"/"+tc.node+".mnt -- "+tc.tamper)
		out := l.must(2, append([]string{"plan", "-detailed-exitcode"}, two...)...)
		if !strings.Contains(out, "Changes outside labnet") || !strings.Contains(out, "# container."+tc.node+" has changed") || !strings.Contains(out, tc.reason) {
			t.Fatalf("plan after %q does not report %q:\n%s", tc.tamper, tc.reason, out)
		}
		l.must(0, append([]string{"apply", "-auto-approve"}, two...)...)
		l.must(0, append([]string{"plan", "-detailed-exitcode"}, two...)...)
		if got := in("container."+tc.node, "sh", "-c", tc.proof); got != map[string]string{"a": "two", "b": "1"}[tc.node] {
			t.Errorf("after repairing %q: %q", tc.tamper, got)
		}
	}

	// Other private dirs remake container.b (and its process); its old
	// namespaces are gone for good.
	more := append(append([]string{}, two...), "-var", `b_dirs=["/var/run/demo","/run/democonf","/run/demoextra"]`)
	l.vars = more
	out = l.must(2, append([]string{"plan", "-detailed-exitcode"}, more...)...)
	if !strings.Contains(out, "-/+ container.b on host.h") || !strings.Contains(out, "private_dirs") || !strings.Contains(out, "# forces replacement") ||
		!strings.Contains(out, "-/+ process.b on host.h") || strings.Contains(out, "container.a") {
		t.Fatalf("plan of new private dirs:\n%s", out)
	}
	oldB := nsOf(t, pidB)
	l.must(0, append([]string{"apply", "-auto-approve"}, more...)...)
	newB := ownedPIDs(t, l.name, "process.b")
	if got := in("container.b", "cat", "/var/run/demo/pid"); got != newB || newB == pidB {
		t.Errorf("remade container.b: pid file %q, process %s (was %s)", got, newB, pidB)
	}
	for _, ns := range oldB {
		if refs := nsRefs(ns, ""); len(refs) > 0 {
			t.Errorf("container.b's old %s is still there after its replacement: %s", ns, strings.Join(refs, "; "))
		}
	}
	if got := hostExec(t, holder, "ls "+nsDir); got != "a.mnt\na.uts\nb.mnt\nb.uts\n" {
		t.Errorf("namespace files on the host: %q", got)
	}
	for _, pid := range []string{newA, newB} {
		for _, ns := range nsOf(t, pid) {
			seen[ns] = true
		}
	}

	l.must(0, append([]string{"destroy", "-auto-approve"}, more...)...)
	for ns := range seen {
		if refs := nsRefs(ns, l.name); len(refs) > 0 {
			t.Errorf("%s is still there after destroy: %s", ns, strings.Join(refs, "; "))
		}
	}
	if b, _ := os.ReadFile("/proc/mounts"); bytes.Contains(b, []byte(l.name)) {
		t.Errorf("/proc/mounts still names the lab:\n%s", b)
	}
	if len(holderPIDs(l.name, "h")) > 0 {
		t.Errorf("the host's holder is still running")
	}
}

// nsOf names a process's mount and UTS namespaces by kind and ID
// ("mnt:4242"). Their inode numbers would not do: the kernel hands a
// freed namespace's number to the next one (a remade container's got its
// predecessor's every time here), while an ID is never used again.
func nsOf(t *testing.T, pid string) []string {
	t.Helper()
	var out []string
	for _, kind := range []string{"mnt", "uts"} {
		id, err := nsID(filepath.Join("/proc", pid, "ns", kind))
		if err != nil {
			t.Fatalf("%s's %s namespace: %v", pid, kind, err)
		}
		out = append(out, kind+":"+id)
	}
	return out
}

// nsID is the ID of the namespace a file (a /proc/PID/ns link or a bound
// namespace file) holds (NS_GET_ID, Linux 6.18).
func nsID(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var id uint64
	const nsGetID = 0x8008b70d // _IOR(0xb7, 0xd, __u64)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), nsGetID, uintptr(unsafe.Pointer(&id))); e != 0 {
		return "", fmt.Errorf("NS_GET_ID: %w", e)
	}
	return strconv.FormatUint(id, 10), nil
}

// nsRefs lists what still holds a namespace ("mnt:ID"): a process in it,
// or a file it is bound on (mountinfo shows an nsfs mount; its ID is read
// through the mounting namespace's root), and (lab not "") every mount of
// the lab's namespace files dir, in every mount namespace on the machine.
func nsRefs(ns, lab string) []string {
	kind := strings.SplitN(ns, ":", 2)[0]
	var refs []string
	read := map[string]bool{} // mount namespaces whose mounts were read
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid := e.Name()
		if strings.Trim(pid, "0123456789") != "" {
			continue
		}
		if id, err := nsID(filepath.Join("/proc", pid, "ns", kind)); err == nil && kind+":"+id == ns {
			refs = append(refs, "process "+pid+" is in it")
		}
		mnt, _ := os.Readlink(filepath.Join("/proc", pid, "ns", "mnt"))
		if mnt == "" || read[mnt] {
			continue
		}
		read[mnt] = true
		b, _ := os.ReadFile(filepath.Join("/proc", pid, "mountinfo"))
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 5 {
				continue
			}
			if strings.Contains(line, " - nsfs ") && strings.HasPrefix(f[3], kind+":") {
				if id, err := nsID(filepath.Join("/proc", pid, "root", f[4])); err == nil && kind+":"+id == ns {
					refs = append(refs, "bound in "+mnt+" (process "+pid+"): "+line)
				}
			}
			if lab != "" && strings.Contains(line, "/run/labnet/"+lab+"/ns") {
				refs = append(refs, "mounted in "+mnt+" (process "+pid+"): "+line)
			}
		}
	}
	return refs
}

// sshIn runs labnet ssh into a node with input on its stdin.
func sshIn(t *testing.T, l *lab, node, input string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, labnetBin, "-chdir="+l.dir, "ssh", node)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("labnet ssh %s: %v\n%s", node, err, out)
	}
	return string(out)
}

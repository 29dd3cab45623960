package hostnet

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// hostile is file content no shell may see as text: quotes, expansions,
// the here-document's own terminator on a line, no final newline, and
// bytes that are not UTF-8.
var hostile = []byte("$(touch /PWNED) `touch /PWNED` ${HOME} 'q' \"q\" \\\nLABNET_FILE\nEOF\n\x00\xff\xfe end")

// isoContainer is a container of lab "isotest" named c with private dirs
// and files (the sandbox makes its namespace and eth0 by hand).
func isoContainer(files ...File) Container {
	n := Names{Lab: "isotest"}
	return Container{Addr: "container.c", Netns: n.Netns("c"), Address: netip.MustParseAddr("10.9.0.2"), Bits: 24,
		Iso: &Isolation{MountNS: n.MountNS("c"), UTSNS: n.UTSNS("c"), Hostname: "c", Dirs: []string{"/etc/demo", "/var/run/demo"}, Files: files}}
}

// TestIsoShellsCarryNoUserText: file content reaches the host only as
// base64 (the here-document's body holds nothing else), and paths only
// quoted, as arguments of fixed scripts.
func TestIsoShellsCarryNoUserText(t *testing.T) {
	c := isoContainer(File{Path: "/etc/demo/a b", Mode: 0o640, Content: hostile}, File{Path: "/etc/demo/empty", Mode: 0o600})
	n := Names{Lab: "isotest"}
	create := c.IsoCreateShell(n)
	repair := c.IsoRepairShell(n, nil, []string{"/etc/demo/old one"})
	for _, s := range []string{create, repair} {
		checkSyntax(t, s)
		for _, bad := range []string{"touch /PWNED", "${HOME}", "\nEOF\n"} {
			if strings.Contains(s, bad) {
				t.Errorf("the shell holds the file's text %q:\n%s", bad, s)
			}
		}
		if strings.Count(s, "\nLABNET_FILE\n")+strings.Count(s, "\nLABNET_FILE") < 2 {
			t.Errorf("not one here-document per file:\n%s", s)
		}
		if !strings.Contains(s, `'/etc/demo/a b'`) {
			t.Errorf("a path with a space is not quoted:\n%s", s)
		}
	}
	if !strings.Contains(repair, `rm -f -- '/etc/demo/old one'`) {
		t.Errorf("repair does not remove the file the lab dropped:\n%s", repair)
	}
	// Nothing to repair: no command at all (an update for another reason
	// costs no process).
	seen := &IsoSeen{Mount: true, UTS: true, Hostname: "c", Hosts: true, SysMAC: n.MAC("container.c"), Tmpfs: c.Iso.Dirs, Files: map[string]FileSeen{}}
	for _, f := range c.Iso.Files {
		seen.Files[f.Path] = FileSeen{SHA256: f.Digest(), Mode: f.Mode}
	}
	k := &Observed{Netns: map[string]*Netns{}, Iso: map[string]*IsoSeen{c.Iso.MountNS: seen}}
	if s := c.IsoRepairShell(n, k, nil); s != "" {
		t.Errorf("repair of a container as made: %q", s)
	}
	// eth0's MAC changed by hand: its /sys still shows its namespace.
	k.Netns[c.Netns] = &Netns{Links: map[string]Link{"eth0": {Name: "eth0", MAC: "02:00:00:00:00:09"}}}
	seen.SysMAC = "02:00:00:00:00:09"
	if d, _ := c.isoDrift(n, k); len(d) > 0 {
		t.Errorf("eth0's new MAC is taken for /sys's drift: %q", d)
	}
	if s := c.IsoRepairShell(n, k, nil); s != "" {
		t.Errorf("repair after eth0's MAC changed: %q", s)
	}
	if u := IsoUnbind(n.MountNS("c"), n.UTSNS("c")); u.Dir != n.IsoDir() || len(u.Files) != 2 || u.Files[0] != n.MountNS("c") || u.Files[1] != n.UTSNS("c") {
		t.Errorf("unbind: %+v", u)
	}
}

// TestIsolationOnKernel makes two containers' namespaces, one with private
// dirs and files (hostile content, a path with a space), reads them back
// with the refresh reader and judges them, checks what the host sees,
// then deletes them: the first deletion leaves the other's files and the
// lab's isolation dir, the last leaves no mount, file or dir.
func TestIsolationOnKernel(t *testing.T) {
	sb := newSandbox(t, "nsenter", "python3", "mountpoint")
	n := Names{Lab: "isotest"}
	c := isoContainer(File{Path: "/etc/demo/a b", Mode: 0o640, Content: hostile}, File{Path: "/var/run/demo/sub/x.conf", Mode: 0o600, Content: []byte("x\n")})
	mac := n.MAC(c.Addr)
	other := Container{Addr: "container.o", Netns: n.Netns("o"), Iso: &Isolation{MountNS: n.MountNS("o"), UTSNS: n.UTSNS("o"), Hostname: "o"}}
	sb.write("create.sh", "set -e\nip netns add "+c.Netns+"\nip link add lnt-iso type veth peer name eth0 address "+mac+" netns "+c.Netns+"\n"+
		"ip netns add "+other.Netns+"\nmkdir -p "+n.RunDir()+"\n"+c.IsoCreateShell(n)+"\n"+other.IsoCreateShell(n)+"\n")
	sb.write("observe.sh", ObserveScript(n, "h", Reads{Inside: []string{c.Netns}, IsoList: true,
		Iso: []IsoRead{{MountNS: c.Iso.MountNS, UTSNS: c.Iso.UTSNS, Hostname: "c", Dirs: c.Iso.Dirs, Files: []string{"/etc/demo/a b", "/var/run/demo/sub/x.conf"}}}}))
	// Deleted as a stage deletes them: the unbinder in the host's script.
	del := Script{Steps: []Step{{ID: 4, Unbind: IsoUnbind(c.Iso.MountNS, c.Iso.UTSNS)}}}
	sb.write("delete.sh", del.Render())
	sb.write("delete-other.sh", Script{Steps: []Step{{ID: 7, Unbind: IsoUnbind(other.Iso.MountNS, other.Iso.UTSNS)}}}.Render())
	sb.run(`sh create.sh
sh observe.sh >observed
nsenter --mount=` + c.Iso.MountNS + ` cat '/etc/demo/a b' >content
nsenter --uts=` + c.Iso.UTSNS + ` hostname >hostname
nsenter --mount=` + c.Iso.MountNS + ` getent hosts c >resolved
{ ls -d /etc/demo/a\ b /var/run/demo/sub 2>/dev/null || true; } >host-sees
sh delete.sh >deleted
{ grep -c /run/labnet/isotest/ns/c /proc/self/mountinfo || true; } >mounts-after
ls /run/labnet/isotest/ns >files-after
sh observe.sh >observed-after
sh delete-other.sh >deleted-other
{ grep -c /run/labnet/isotest/ns /proc/self/mountinfo || true; } >mounts-last
if [ -e /run/labnet/isotest/ns ]; then echo there; else echo gone; fi >dir-last`)
	if got := sb.read("content"); string(got) != string(hostile) {
		t.Errorf("the file holds %q, want %q", got, hostile)
	}
	if got := string(sb.read("hostname")); got != "c\n" {
		t.Errorf("hostname %q", got)
	}
	if got := strings.Fields(string(sb.read("resolved"))); len(got) != 2 || got[0] != "127.0.1.1" || got[1] != "c" {
		t.Errorf("getent hosts c in the container: %q", got)
	}
	if got := string(sb.read("host-sees")); got != "" {
		t.Errorf("the host sees the container's private files: %q", got)
	}
	k, err := ParseObserved(sb.read("observed"))
	if err != nil {
		t.Fatal(err)
	}
	seen := k.Iso[c.Iso.MountNS]
	if seen == nil || !seen.Mount || !seen.UTS || seen.Hostname != "c" || !seen.Hosts || seen.SysMAC != mac || strings.Join(seen.Tmpfs, " ") != "/etc/demo /var/run/demo" ||
		seen.Files["/var/run/demo/sub/x.conf"].Mode != 0o600 || seen.Files["/etc/demo/a b"].SHA256 != c.Iso.Files[0].Digest() {
		t.Errorf("read back %+v", seen)
	}
	if !k.IsoFiles["c.mnt"] || !k.IsoFiles["c.uts"] || len(k.IsoFiles) != 4 {
		t.Errorf("namespace files not listed: %v", k.IsoFiles)
	}
	if d, _ := c.isoDrift(n, k); len(d) > 0 {
		t.Errorf("drift right after create: %q", d)
	}
	if res := del.ParseOutcome(sb.read("deleted")); res[4] != nil {
		t.Errorf("delete: %v\n%s", res[4], sb.read("deleted"))
	}
	if got := strings.TrimSpace(string(sb.read("mounts-after"))); got != "0" {
		t.Errorf("%s mounts left after delete", got)
	}
	if got := string(sb.read("files-after")); got != "o.mnt\no.uts\n" {
		t.Errorf("files after deleting one of two: %q, want the other's", got)
	}
	if got, dir := strings.TrimSpace(string(sb.read("mounts-last"))), string(sb.read("dir-last")); got != "0" || dir != "gone\n" {
		t.Errorf("after the last deletion: %s mounts of the isolation dir, the dir is %s", got, dir)
	}
	after, err := ParseObserved(sb.read("observed-after"))
	if err != nil {
		t.Fatal(err)
	}
	if s := after.Iso[c.Iso.MountNS]; s == nil || s.Mount || s.UTS || len(after.IsoFiles) != 2 || after.IsoFiles["c.mnt"] {
		t.Errorf("after delete: %+v %v", s, after.IsoFiles)
	}
	if d, unrepairable := c.isoDrift(n, after); len(d) != 1 || d[0] != "mount namespace "+c.Iso.MountNS+" is missing" || !unrepairable {
		t.Errorf("drift after delete: %q %v", d, unrepairable)
	}
	if _, err := os.Stat(filepath.Join("/", "PWNED")); err == nil {
		t.Errorf("/PWNED exists")
	}
}

// TestParseIso reads the refresh reader's iso sections.
func TestParseIso(t *testing.T) {
	out := "@@isofile c.mnt\n@@isofile c.uts\n@@iso /run/labnet/l/ns/c.mnt\n" +
		`{"mnt": true, "uts": true, "hostname": "c", "hosts": true, "tmpfs": ["/etc/demo"], "sysmac": "02:AA:bb:cc:dd:ee", "files": {"/etc/demo/a": {"sha256": "ab", "mode": 416}}}` +
		"\n@@iso /run/labnet/l/ns/d.mnt\n{\"mnt\": false, \"uts\": false}\n@@end\n"
	k, err := ParseObserved([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	c := k.Iso["/run/labnet/l/ns/c.mnt"]
	if c == nil || !c.Mount || !c.UTS || c.Hostname != "c" || !c.Hosts || c.SysMAC != "02:aa:bb:cc:dd:ee" || c.Tmpfs[0] != "/etc/demo" ||
		c.Files["/etc/demo/a"] != (FileSeen{SHA256: "ab", Mode: 0o640}) {
		t.Errorf("c = %+v", c)
	}
	if d := k.Iso["/run/labnet/l/ns/d.mnt"]; d == nil || d.Mount || d.UTS {
		t.Errorf("d = %+v", d)
	}
	if !k.IsoFiles["c.mnt"] || !k.IsoFiles["c.uts"] || len(k.IsoFiles) != 2 {
		t.Errorf("files %v", k.IsoFiles)
	}
	if _, err := ParseObserved([]byte("@@iso x\n{not json\n@@end\n")); err == nil {
		t.Errorf("a broken iso section parses")
	}
}

// TestIsoReadOfABrokenView: a container whose /proc was covered by hand
// cannot be read inside; the read of the host goes on (the other
// container is read) and the broken one is seen as missing, which remakes
// it.
func TestIsoReadOfABrokenView(t *testing.T) {
	sb := newSandbox(t, "nsenter", "python3")
	n := Names{Lab: "isotest"}
	var create []string
	var reads []IsoRead
	for _, name := range []string{"broken", "fine"} {
		c := Container{Addr: "container." + name, Netns: n.Netns(name), Iso: &Isolation{MountNS: n.MountNS(name), UTSNS: n.UTSNS(name), Hostname: name}}
		create = append(create, "ip netns add "+c.Netns, c.IsoCreateShell(n))
		reads = append(reads, IsoRead{MountNS: c.Iso.MountNS, UTSNS: c.Iso.UTSNS})
	}
	sb.write("create.sh", "set -e\nmkdir -p "+n.RunDir()+"\n"+strings.Join(create, "\n")+"\n")
	sb.write("observe.sh", ObserveScript(n, "h", Reads{Inside: []string{n.Netns("fine")}, IsoList: true, Iso: reads}))
	sb.run(`sh create.sh
nsenter --mount=` + n.MountNS("broken") + ` mount -t tmpfs x /proc
sh observe.sh >observed`)
	k, err := ParseObserved(sb.read("observed"))
	if err != nil {
		t.Fatalf("%v\n%s", err, sb.read("observed"))
	}
	if b := k.Iso[n.MountNS("broken")]; b == nil || b.Mount {
		t.Errorf("broken: %+v", b)
	}
	if f := k.Iso[n.MountNS("fine")]; f == nil || !f.Mount || !f.UTS || f.Hostname != "fine" {
		t.Errorf("fine: %+v", f)
	}
}

// TestIsoCreateFromEveryCPU: a mount namespace made on a CPU whose
// namespace numbers run below the host's cannot be bound (EINVAL) and must
// still be made, on the host's CPU, which is noted and tried first next.
// Numbers come from per-CPU batches: burning a batch's worth on CPU 0
// gives it the newest, so the host's namespace made there next numbers
// above everything CPU 1 hands out (every first try from CPU 1 failed).
func TestIsoCreateFromEveryCPU(t *testing.T) {
	sb := newSandbox(t, "nsenter", "taskset", "getconf", "python3")
	out, err := exec.Command("getconf", "_NPROCESSORS_ONLN").Output()
	if err != nil {
		t.Fatal(err)
	}
	if ncpu, _ := strconv.Atoi(strings.TrimSpace(string(out))); ncpu < 2 {
		t.Skip("one CPU: its namespace numbers only grow")
	}
	n := Names{Lab: "isotest"}
	var driver []string
	want := 0
	for _, cpu := range []int{1, 0, 1} {
		for j := 0; j < 4; j++ {
			name := fmt.Sprintf("c%d-%d", want, cpu)
			c := Container{Addr: "container." + name, Netns: n.Netns(name), Iso: &Isolation{MountNS: n.MountNS(name), UTSNS: n.UTSNS(name), Hostname: name}}
			sb.write(name+".sh", "set -e\nip netns add "+c.Netns+"\n"+c.IsoCreateShell(n)+"\n")
			driver = append(driver, fmt.Sprintf("taskset -c %d sh %s.sh", cpu, name))
			want++
		}
	}
	const burn = `import ctypes
libc = ctypes.CDLL(None, use_errno=True)
for i in range(20000):
    assert libc.unshare(0x04000000) == 0  # CLONE_NEWUTS`
	driverText := "set -e\nmount -t tmpfs labnet-test /run && mkdir -p /run/netns " + n.RunDir() + "\n" + strings.Join(driver, "\n") +
		"\nls " + n.IsoDir() + " | wc -l >made\nfor f in " + n.IsoDir() + "/*.uts; do nsenter --uts=$f hostname; done | wc -l >hostnames\n" +
		"cat " + n.IsoDir() + "/.cpu >noted\n"
	cmd := exec.Command("taskset", "-c", "0", "sh", "-c", `python3 -c "$1" && exec unshare --net --mount --propagation private sh -c "$2"`, "burn", burn, driverText)
	cmd.Dir = sb.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(sb.read("made"))); got != strconv.Itoa(2*want) {
		t.Errorf("%s namespace files, want %d", got, 2*want)
	}
	if got := strings.TrimSpace(string(sb.read("hostnames"))); got != strconv.Itoa(want) {
		t.Errorf("%s hostnames read, want %d", got, want)
	}
	if got := string(sb.read("noted")); got != "0\n" {
		t.Errorf("noted CPU %q, want the host's, 0", got)
	}
}

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

	"github.com/labnet-dev/labnet/internal/testutil"
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

// isoScript is a stage script with one step per container, each making
// (repair nil) or repairing its namespaces, as a stage sends them.
func isoScript(n Names, cs []Container, repair func(Container) *IsoStep) Script {
	var s Script
	for i, c := range cs {
		in := c.Inside(n)
		if repair == nil {
			in.Iso = c.IsoCreate(n)
		} else {
			in.Iso = repair(c)
		}
		s.Steps = append(s.Steps, Step{ID: i + 1, Inside: in})
	}
	return s
}

// TestIsoStepsCarryNoUserText: file content reaches the host only as
// base64 inside JSON, and paths only in JSON, in a quoted here-document
// that no line of it ends; the steps ask for what create and repair must
// do, and a repair of a container as made asks for nothing.
func TestIsoStepsCarryNoUserText(t *testing.T) {
	c := isoContainer(File{Path: "/etc/demo/a b", Mode: 0o640, Content: hostile}, File{Path: "/etc/demo/empty", Mode: 0o600})
	n := Names{Lab: "isotest"}
	create := c.IsoCreate(n)
	repair := c.IsoRepair(n, nil, []string{"/etc/demo/old one"})
	if !create.Make || create.Hostname != "c" || create.Hosts != "c" || !create.Sys || strings.Join(create.Mount, " ") != "/etc/demo /var/run/demo" ||
		len(create.Files) != 2 || create.Files[0].Mode != "0640" || create.Files[0].Dir != "/etc/demo" || string(create.Files[0].Content) != string(hostile) {
		t.Errorf("create: %+v", create)
	}
	if repair.Make || repair.Hostname != "c" || repair.Hosts != "c" || !repair.Sys || !repair.MountIfNone || len(repair.Mount) != 2 || len(repair.Files) != 2 ||
		strings.Join(repair.Remove, ",") != "/etc/demo/old one" {
		t.Errorf("repair of what was not read: %+v", repair)
	}
	for _, s := range []Script{isoScript(n, []Container{c}, nil), isoScript(n, []Container{c}, func(Container) *IsoStep { return repair })} {
		text := s.Render()
		checkSyntax(t, text)
		for _, bad := range []string{"touch /PWNED", "${HOME}", "\nEOF\n", "\nLABNET_FILE"} {
			if strings.Contains(text, bad) {
				t.Errorf("the script holds the file's text %q:\n%s", bad, text)
			}
		}
		if !strings.Contains(text, `"path":"/etc/demo/a b"`) {
			t.Errorf("the file's path is not in the step's JSON:\n%s", text)
		}
	}
	// Nothing to repair: nothing to do at all (an update for another
	// reason costs nothing here).
	seen := &IsoSeen{Mount: true, UTS: true, Hostname: "c", Hosts: true, SysMAC: n.MAC("container.c"), Tmpfs: c.Iso.Dirs, Files: map[string]FileSeen{}}
	for _, f := range c.Iso.Files {
		seen.Files[f.Path] = FileSeen{SHA256: f.Digest(), Mode: f.Mode}
	}
	k := &Observed{Netns: map[string]*Netns{}, Iso: map[string]*IsoSeen{c.Iso.MountNS: seen}}
	if s := c.IsoRepair(n, k, nil); s != nil {
		t.Errorf("repair of a container as made: %+v", s)
	}
	// Only what differs: a private dir mounted again has every file under
	// it written again.
	seen.Hostname, seen.Tmpfs = "x", []string{"/var/run/demo"}
	if s := c.IsoRepair(n, k, nil); s == nil || s.Hostname != "c" || s.Hosts != "" || s.Sys || s.MountIfNone || strings.Join(s.Mount, " ") != "/etc/demo" || len(s.Files) != 2 {
		t.Errorf("repair of a hostname and a private dir: %+v", s)
	}
	seen.Hostname, seen.Tmpfs = "c", c.Iso.Dirs
	// eth0's MAC changed by hand: its /sys still shows its namespace.
	k.Netns[c.Netns] = &Netns{Links: map[string]Link{"eth0": {Name: "eth0", MAC: "02:00:00:00:00:09"}}}
	seen.SysMAC = "02:00:00:00:00:09"
	if d, _ := c.isoDrift(n, k); len(d) > 0 {
		t.Errorf("eth0's new MAC is taken for /sys's drift: %q", d)
	}
	if s := c.IsoRepair(n, k, nil); s != nil {
		t.Errorf("repair after eth0's MAC changed: %+v", s)
	}
	if u := IsoUnbind(n.MountNS("c"), n.UTSNS("c")); u.Dir != n.IsoDir() || len(u.Files) != 2 || u.Files[0] != n.MountNS("c") || u.Files[1] != n.UTSNS("c") {
		t.Errorf("unbind: %+v", u)
	}
}

// TestIsolationOnKernel makes two containers' namespaces in one stage, one
// with private dirs and files (hostile content, a path with a space),
// reads them back with the refresh reader and judges them, checks what the
// host sees; then undoes all of it by hand (hostname, /etc/hosts, /sys, a
// private dir, a file made a directory, a file gone) plus a file the lab
// dropped, and repairs it from what was not read; then deletes them: the
// first deletion leaves the other's files and the lab's isolation dir, the
// last leaves no mount, file or dir, without python3 (one umount of the
// dir).
func TestIsolationOnKernel(t *testing.T) {
	sb := newSandbox(t, "nsenter", "python3")
	n := Names{Lab: "isotest"}
	c := isoContainer(File{Path: "/etc/demo/a b", Mode: 0o640, Content: hostile}, File{Path: "/var/run/demo/sub/x.conf", Mode: 0o600, Content: []byte("x\n")})
	mac := n.MAC(c.Addr)
	other := Container{Addr: "container.o", Netns: n.Netns("o"), Iso: &Isolation{MountNS: n.MountNS("o"), UTSNS: n.UTSNS("o"), Hostname: "o"}}
	create := isoScript(n, []Container{c, other}, nil)
	repair := isoScript(n, []Container{c}, func(c Container) *IsoStep { return c.IsoRepair(n, nil, []string{"/etc/demo/dropped"}) })
	sb.write("create.sh", "set -e\nip netns add "+c.Netns+"\nip link add lnt-iso type veth peer name eth0 address "+mac+" netns "+c.Netns+"\n"+
		"ip netns add "+other.Netns+"\nmkdir -p "+n.RunDir()+"\n"+create.Render())
	sb.write("repair.sh", repair.Render())
	reads := Reads{Inside: []string{c.Netns}, IsoList: true,
		Iso: []IsoRead{{MountNS: c.Iso.MountNS, UTSNS: c.Iso.UTSNS, Hostname: "c", Dirs: c.Iso.Dirs, Files: []string{"/etc/demo/a b", "/var/run/demo/sub/x.conf"}}}}
	sb.write("observe.sh", ObserveScript(n, "h", reads))
	// Deleted as a stage deletes them: the unbinder in the host's script.
	del := Script{Steps: []Step{{ID: 4, Unbind: IsoUnbind(c.Iso.MountNS, c.Iso.UTSNS)}}}
	sb.write("delete.sh", del.Render())
	delOther := Script{Steps: []Step{{ID: 7, Unbind: IsoUnbind(other.Iso.MountNS, other.Iso.UTSNS)}}}
	sb.write("delete-other.sh", delOther.Render())
	if err := os.Mkdir(filepath.Join(sb.dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	sb.write("bin/python3", "#!/bin/sh\necho 'python3: not found' >&2\nexit 127\n")
	in := "nsenter --mount=" + c.Iso.MountNS + " "
	sb.run(`sh create.sh >created
sh observe.sh >observed
` + in + `cat '/etc/demo/a b' >content
nsenter --uts=` + c.Iso.UTSNS + ` hostname >hostname
` + in + `getent hosts c >resolved
` + in + `cat /sys/class/net/eth0/address >sysmac
{ ls -d /etc/demo/a\ b /var/run/demo/sub 2>/dev/null || true; } >host-sees
nsenter --uts=` + c.Iso.UTSNS + ` hostname drifted
` + in + `umount /etc/hosts
` + in + `umount -l /sys
` + in + `umount /var/run/demo
` + in + `sh -c 'rm "/etc/demo/a b" && mkdir -p "/etc/demo/a b/sub" && : >/etc/demo/dropped'
sh repair.sh >repaired
sh observe.sh >observed-repaired
` + in + `ls /etc/demo >demo-files
sh delete.sh >deleted
{ grep -c /run/labnet/isotest/ns/c /proc/self/mountinfo || true; } >mounts-after
ls /run/labnet/isotest/ns >files-after
sh observe.sh >observed-after
chmod +x bin/python3 && PATH=$PWD/bin:$PATH sh delete-other.sh >deleted-other
{ grep -c /run/labnet/isotest/ns /proc/self/mountinfo || true; } >mounts-last
if [ -e /run/labnet/isotest/ns ]; then echo there; else echo gone; fi >dir-last`)
	if res := create.ParseOutcome(sb.read("created")); res[1] != nil || res[2] != nil {
		t.Fatalf("create: %v\n%s", res, sb.read("created"))
	}
	if got := sb.read("content"); string(got) != string(hostile) {
		t.Errorf("the file holds %q, want %q", got, hostile)
	}
	if got := string(sb.read("hostname")); got != "c\n" {
		t.Errorf("hostname %q", got)
	}
	if got := strings.Fields(string(sb.read("resolved"))); len(got) != 2 || got[0] != "127.0.1.1" || got[1] != "c" {
		t.Errorf("getent hosts c in the container: %q", got)
	}
	if got := strings.TrimSpace(string(sb.read("sysmac"))); got != mac {
		t.Errorf("eth0 in the container's /sys: %q, want %s", got, mac)
	}
	if got := string(sb.read("host-sees")); got != "" {
		t.Errorf("the host sees the container's private files: %q", got)
	}
	judge := func(name string) *Observed {
		t.Helper()
		k, err := ParseObserved(sb.read(name))
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := c.isoDrift(n, k); len(d) > 0 {
			t.Errorf("%s: drift %q", name, d)
		}
		return k
	}
	k := judge("observed")
	seen := k.Iso[c.Iso.MountNS]
	if seen == nil || !seen.Mount || !seen.UTS || seen.Hostname != "c" || !seen.Hosts || seen.SysMAC != mac || strings.Join(seen.Tmpfs, " ") != "/etc/demo /var/run/demo" ||
		seen.Files["/var/run/demo/sub/x.conf"].Mode != 0o600 || seen.Files["/etc/demo/a b"].SHA256 != c.Iso.Files[0].Digest() {
		t.Errorf("read back %+v", seen)
	}
	if !k.IsoFiles["c.mnt"] || !k.IsoFiles["c.uts"] || len(k.IsoFiles) != 4 {
		t.Errorf("namespace files not listed: %v", k.IsoFiles)
	}
	if res := repair.ParseOutcome(sb.read("repaired")); res[1] != nil {
		t.Errorf("repair: %v\n%s", res[1], sb.read("repaired"))
	}
	judge("observed-repaired")
	if got := string(sb.read("demo-files")); got != "a b\n" {
		t.Errorf("/etc/demo after the repair holds %q, want only the lab's file", got)
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
	if res := delOther.ParseOutcome(sb.read("deleted-other")); res[7] != nil {
		t.Errorf("delete of the last one (python3 missing: one umount of the dir): %v\n%s", res[7], sb.read("deleted-other"))
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
	var cs []Container
	var reads []IsoRead
	for _, name := range []string{"broken", "fine"} {
		c := Container{Addr: "container." + name, Netns: n.Netns(name), Iso: &Isolation{MountNS: n.MountNS(name), UTSNS: n.UTSNS(name), Hostname: name}}
		create = append(create, "ip netns add "+c.Netns)
		cs = append(cs, c)
		reads = append(reads, IsoRead{MountNS: c.Iso.MountNS, UTSNS: c.Iso.UTSNS})
	}
	sb.write("create.sh", "set -e\nmkdir -p "+n.RunDir()+"\n"+strings.Join(create, "\n")+"\n"+isoScript(n, cs, nil).Render())
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
// Each stage is one container, started on the CPU given (the noted one
// moves it), and the last stage makes four at once.
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
	stage := func(cpu int, names ...string) {
		var cs []Container
		var made []string
		for _, name := range names {
			c := Container{Addr: "container." + name, Netns: n.Netns(name), Iso: &Isolation{MountNS: n.MountNS(name), UTSNS: n.UTSNS(name), Hostname: name}}
			cs = append(cs, c)
			made = append(made, "ip netns add "+c.Netns)
			want++
		}
		s := isoScript(n, cs, nil)
		name := fmt.Sprintf("stage%d", len(driver))
		sb.write(name+".sh", "set -e\n"+strings.Join(made, "\n")+"\n"+s.Render())
		driver = append(driver, fmt.Sprintf("taskset -c %d sh %s.sh >%s.out; grep @@ %s.out >>outcomes || true", cpu, name, name, name))
	}
	for _, cpu := range []int{1, 0, 1} {
		for j := 0; j < 4; j++ {
			stage(cpu, fmt.Sprintf("c%d-%d", want, cpu))
		}
	}
	stage(1, "d0", "d1", "d2", "d3")
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
	if got := string(sb.read("outcomes")); strings.Contains(got, "@@fail") {
		t.Errorf("a container failed:\n%s", got)
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

// TestUnbindWholeDir: a stage that unbinds every file of one isolation dir
// lets go of them with one umount of the dir; when that fails (here the
// dir is a plain directory, not labnet's tmpfs) unbind.py does them one by
// one, and the steps succeed all the same. A dir with a file that stays is
// left to unbind.py, which keeps that file; a dir already gone is no error,
// without python3.
func TestUnbindWholeDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("umount2 needs root")
	}
	testutil.NeedTools(t, "python3")
	base := t.TempDir()
	mk := func(names ...string) []string {
		var out []string
		for _, n := range names {
			p := filepath.Join(base, n)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
		return out
	}
	whole := mk("ns1/a.mnt", "ns1/a.uts", "ns1/b.mnt", "ns1/b.uts")
	s := Script{Steps: []Step{{ID: 1, Unbind: IsoUnbind(whole[0], whole[1])}, {ID: 2, Unbind: IsoUnbind(whole[2], whole[3])}}}
	if text := s.Render(); !strings.Contains(text, "unbwhole ") {
		t.Fatalf("one dir, every file going: no umount of the dir:\n%s", text)
	}
	r := runScript(t, s)
	if r.out[1] != nil || r.out[2] != nil {
		t.Errorf("outcome %v\n%s", r.out, r.stdout)
	}
	if _, err := os.Stat(filepath.Dir(whole[0])); err == nil {
		t.Errorf("%s is still there", filepath.Dir(whole[0]))
	}
	part := mk("ns2/a.mnt", "ns2/a.uts", "ns2/keep.mnt")
	r = runScript(t, Script{Steps: []Step{{ID: 3, Unbind: IsoUnbind(part[0], part[1])}}})
	if r.out[3] != nil {
		t.Errorf("outcome %v\n%s", r.out, r.stdout)
	}
	if left, _ := os.ReadDir(filepath.Dir(part[0])); len(left) != 1 || left[0].Name() != "keep.mnt" {
		t.Errorf("left in the dir: %v, want keep.mnt", left)
	}
	fake := filepath.Join(t.TempDir(), "python3")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nexit 127\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	gone := filepath.Join(base, "ns3")
	r = runScript(t, Script{Steps: []Step{{ID: 4, Unbind: IsoUnbind(gone+"/a.mnt", gone+"/a.uts")}}}, "PATH="+filepath.Dir(fake)+":"+os.Getenv("PATH"))
	if r.out[4] != nil {
		t.Errorf("a dir already gone: %v\n%s", r.out[4], r.stdout)
	}
}

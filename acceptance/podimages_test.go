package acceptance

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/labnet-dev/labnet/image"
	"github.com/labnet-dev/labnet/internal/testutil"
)

// busyboxImage builds images/busybox.tar in a lab's directory from the
// machine's busybox-static, as `make images` does (newLab does it for the
// labs that name it).
func busyboxImage(t *testing.T, dir string) {
	t.Helper()
	busyboxImageWith(t, dir, nil)
}

// busyboxImageWith is busyboxImage with extra files in the image.
func busyboxImageWith(t *testing.T, dir string, extra map[string]image.File) {
	t.Helper()
	testutil.NeedTools(t, "runc", "busybox")
	bb, _ := exec.LookPath("busybox")
	files, err := image.BusyboxFiles(bb, func() ([]byte, error) { return exec.Command(bb, "--list").Output() })
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(files, extra)
	if err := os.MkdirAll(filepath.Join(dir, "images"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := image.Build(files, image.BusyboxConfig, image.DockerArchive, filepath.Join(dir, "images", "busybox.tar")); err != nil {
		t.Fatal(err)
	}
}

// TestPodImages applies a pod of two image containers, httpd and a shell,
// and proves the pod as Kubernetes has it: the shell reaches httpd on
// 127.0.0.1, another node reaches it at the pod's address, the two share
// the network and UTS namespaces (one hostname, the pod's) but not their
// PID and mount namespaces (each sees its own processes and files). A
// changed hostname and a killed container are drift that apply repairs,
// touching nothing else; removing one container keeps the pod's UTS
// namespace, removing the pod leaves no runc container, overlay, bundle or
// namespace file.
func TestPodImages(t *testing.T) {
	l := newLab(t, "testdata/podimages") // with images/busybox.tar
	l.must(0, "apply", "-auto-approve")
	if out := l.must(0, "test"); !strings.Contains(out, "2 passed, 0 failed") {
		t.Fatalf("checks:\n%s", out)
	}
	l.must(0, "plan", "-detailed-exitcode")

	in := func(c string, argv ...string) string {
		return l.must(0, append([]string{"exec", "pod.web/" + c, "--"}, argv...)...)
	}
	host := func(script string) string { return l.must(0, "exec", "host.node[0]", "--", "sh", "-c", script) }

	// The shell reaches httpd on localhost, with the image's wget.
	if out := in("shell", "wget", "-qO-", "http://127.0.0.1:8080/"); out != "hello from the pod\n" {
		t.Errorf("wget 127.0.0.1:8080 in the shell container: %q", out)
	}

	// Namespaces: network and UTS shared (and the pod's own network
	// namespace is theirs), PID and mount not.
	ns := map[string][]string{}
	for _, c := range []string{"httpd", "shell"} {
		ns[c] = strings.Fields(in(c, "sh", "-c", "for n in net uts pid mnt; do readlink /proc/self/ns/$n; done"))
		if len(ns[c]) != 4 {
			t.Fatalf("%s: namespaces %q", c, ns[c])
		}
	}
	if ns["httpd"][0] != ns["shell"][0] || ns["httpd"][1] != ns["shell"][1] {
		t.Errorf("network or UTS namespace not shared: httpd %v, shell %v", ns["httpd"], ns["shell"])
	}
	if ns["httpd"][2] == ns["shell"][2] || ns["httpd"][3] == ns["shell"][3] {
		t.Errorf("PID or mount namespace shared: httpd %v, shell %v", ns["httpd"], ns["shell"])
	}
	if out := l.must(0, "exec", "pod.web", "--", "readlink", "/proc/self/ns/net"); strings.TrimSpace(out) != ns["httpd"][0] {
		t.Errorf("the containers' network namespace %s is not the pod's %s", ns["httpd"][0], out)
	}
	for _, c := range []string{"httpd", "shell"} {
		if out := in(c, "hostname"); out != "web\n" {
			t.Errorf("%s: hostname %q, want the pod's name", c, out)
		}
	}
	// Each its own PIDs: pid 1 is its own process, ps shows no other's.
	if out := in("httpd", "cat", "/proc/1/cmdline"); !strings.HasPrefix(out, "httpd\x00") {
		t.Errorf("httpd's pid 1 is %q", out)
	}
	if out := in("shell", "cat", "/proc/1/cmdline"); !strings.HasPrefix(out, "sleep\x00") {
		t.Errorf("the shell's pid 1 is %q", out)
	}
	if out := in("shell", "ps", "-o", "pid,args"); strings.Contains(out, "httpd") || !strings.Contains(out, "sleep 1000000") {
		t.Errorf("ps in the shell container:\n%s", out)
	}
	// Each its own files: one written in httpd is not in the shell, nor
	// is httpd's file block.
	in("httpd", "sh", "-c", "echo mine >/tmp/only-httpd")
	if out := in("httpd", "cat", "/tmp/only-httpd", "/www/index.html"); out != "mine\nhello from the pod\n" {
		t.Errorf("httpd's files: %q", out)
	}
	if _, _, code := l.run("exec", "pod.web/shell", "--", "ls", "/tmp/only-httpd"); code == 0 {
		t.Errorf("a file written in httpd is in the shell container")
	}
	if _, _, code := l.run("exec", "pod.web/shell", "--", "ls", "/www/index.html"); code == 0 {
		t.Errorf("httpd's file block is in the shell container")
	}

	runDir := "/run/labnet/" + l.name
	uts := runDir + "/ns/web.pod.uts"
	pidRe := regexp.MustCompile(`"pid": (\d+)`)
	pid := func(c string) string {
		m := pidRe.FindStringSubmatch(host("runc state labnet." + l.name + ".web." + c))
		if m == nil || m[1] == "0" {
			t.Fatalf("no pid for %s", c)
		}
		return m[1]
	}
	httpdPid, shellPid := pid("httpd"), pid("shell")

	// A hostname changed behind labnet's back is set again in place.
	host("nsenter --uts=" + uts + " hostname changed")
	if out, _, _ := l.run("plan"); !strings.Contains(out, `hostname is "changed", wants "web"`) {
		t.Errorf("plan does not show the changed hostname:\n%s", out)
	}
	l.must(0, "apply", "-auto-approve")
	if out := in("shell", "hostname"); out != "web\n" {
		t.Errorf("hostname after the repair: %q", out)
	}
	if pid("httpd") != httpdPid || pid("shell") != shellPid {
		t.Errorf("repairing the hostname restarted a container")
	}

	// Killing httpd is drift; apply starts it again, and only it.
	host("kill -9 " + httpdPid + "; sleep 0.3")
	out, _, _ := l.run("plan", "-detailed-exitcode")
	if !strings.Contains(out, "runc container labnet."+l.name+".web.httpd stopped, killed by signal 9 (SIGKILL)") {
		t.Errorf("plan does not show the stopped container:\n%s", out)
	}
	if add, change, destroy := planCounts(t, out); add != 0 || change != 1 || destroy != 0 {
		t.Errorf("plan after killing httpd: %d/%d/%d, want 1 to change:\n%s", add, change, destroy, out)
	}
	l.must(0, "apply", "-auto-approve")
	if p := pid("httpd"); p == httpdPid {
		t.Errorf("httpd was not restarted")
	}
	if pid("shell") != shellPid {
		t.Errorf("the shell container was restarted with httpd")
	}
	if out := l.must(0, "test"); !strings.Contains(out, "2 passed, 0 failed") {
		t.Fatalf("checks after the repair:\n%s", out)
	}
	l.must(0, "plan", "-detailed-exitcode")

	// Another image (another digest) replaces both containers, and only
	// them; they run it.
	busyboxImageWith(t, l.dir, map[string]image.File{"/etc/variant": {Mode: 0o644, Content: []byte("two\n")}})
	if im, err := image.Open(image.DockerArchive, filepath.Join(l.dir, "images", "busybox.tar")); err == nil {
		// Labnet keeps unpacked images as a cache; this one is the test's.
		dir := "/var/lib/labnet/images/" + strings.TrimPrefix(im.Digest, "sha256:")
		im.Close()
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	out = l.must(2, "plan", "-detailed-exitcode")
	if add, change, destroy := planCounts(t, out); add != 2 || change != 0 || destroy != 2 || !strings.Contains(out, "image_digest") {
		t.Errorf("plan after the image changed: %d/%d/%d, want both containers replaced for their image_digest:\n%s", add, change, destroy, out)
	}
	l.must(0, "apply", "-auto-approve")
	for _, c := range []string{"httpd", "shell"} {
		if out := in(c, "cat", "/etc/variant"); out != "two\n" {
			t.Errorf("%s does not run the new image: %q", c, out)
		}
	}
	if out := l.must(0, "test"); !strings.Contains(out, "2 passed, 0 failed") {
		t.Fatalf("checks after the new image:\n%s", out)
	}

	// One container goes: the pod's UTS namespace stays for the other.
	main := filepath.Join(l.dir, "main.hcl")
	src := mustRead(t, main)
	shellBlock := regexp.MustCompile(`(?s)  container "shell" \{.*?\n  \}\n`)
	if err := os.WriteFile(main, []byte(shellBlock.ReplaceAllString(src, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	l.must(0, "apply", "-auto-approve")
	if out := host("runc list -q; grep -c " + uts + " /proc/self/mounts"); out != "labnet."+l.name+".web.httpd\n1\n" {
		t.Errorf("after removing the shell container: %q", out)
	}
	if out := in("httpd", "hostname"); out != "web\n" {
		t.Errorf("httpd's hostname after the shell went: %q", out)
	}
	// The pod goes: nothing of its containers is left on the host.
	pod := regexp.MustCompile(`(?s)pod "web" \{.*`)
	if err := os.WriteFile(main, []byte(pod.ReplaceAllString(src, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	l.must(0, "apply", "-auto-approve")
	if out := host("runc list -q; grep -F " + runDir + " /proc/self/mounts; for d in runc ns; do [ -e " + runDir + "/$d ] && echo " + runDir + "/$d; done; true"); strings.TrimSpace(out) != "" {
		t.Errorf("after removing the pod the host still has:\n%s", out)
	}
	l.must(0, "destroy", "-auto-approve")
	if out, _ := exec.Command("sh", "-c", "runc list -q | grep -F "+l.name+"; grep -F "+l.name+" /proc/self/mounts").Output(); len(out) > 0 {
		t.Errorf("after destroy the machine has:\n%s", out)
	}
}

package acceptance

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labnet-dev/labnet/image"
	"github.com/labnet-dev/labnet/internal/testutil"
)

// TestImageContainers applies two containers from one busybox image on
// one host: traffic flows (a check), one unpacked image serves both (one
// directory per digest) with an upper dir each, exec sees the image's
// filesystem, a killed init is drift that apply repairs, a second apply
// ships no image, and destroy leaves no runc container, overlay or bundle.
func TestImageContainers(t *testing.T) {
	testutil.NeedRoot(t)
	testutil.NeedTools(t, "runc", "busybox")
	l := newLab(t, "testdata/images")
	bb, _ := exec.LookPath("busybox")
	files, err := image.BusyboxFiles(bb, func() ([]byte, error) { return exec.Command(bb, "--list").Output() })
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(l.dir, "images"), 0o755)
	archive := filepath.Join(l.dir, "images", "busybox.tar")
	if err := image.Build(files, image.BusyboxConfig, image.DockerArchive, archive); err != nil {
		t.Fatal(err)
	}
	im, err := image.Open(image.DockerArchive, archive)
	if err != nil {
		t.Fatal(err)
	}
	digest := strings.TrimPrefix(im.Digest, "sha256:")
	im.Close()
	fi, _ := os.Stat(archive)

	stats := filepath.Join(t.TempDir(), "stats.json")
	sent := func() int64 {
		b, err := os.ReadFile(stats)
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			Sent map[string]int64 `json:"sent_bytes"`
		}
		json.Unmarshal(b, &s)
		return s.Sent["host.node"]
	}
	t.Setenv("LABNET_STATS", stats)
	l.must(0, "apply", "-auto-approve")
	l.must(0, "test")

	host := func(script string) string { return l.must(0, "exec", "host.node", "--", "sh", "-c", script) }
	run := "/run/labnet/" + l.name + "/runc/"
	// One unpacked image, an upper dir and an overlay each.
	if out := host("ls -d /var/lib/labnet/images/" + digest + "/rootfs"); !strings.Contains(out, digest) {
		t.Errorf("image not unpacked by digest: %q", out)
	}
	mounts := host("grep ' overlay ' /proc/self/mounts")
	for _, c := range []string{"web", "client"} {
		want := "lowerdir=/var/lib/labnet/images/" + digest + "/rootfs,upperdir=" + run + c + "/upper"
		if !strings.Contains(mounts, want) {
			t.Errorf("%s: no overlay with %s in:\n%s", c, want, mounts)
		}
	}
	// exec sees the image's filesystem, not the host's.
	if out := l.must(0, "exec", "container.client", "--", "sh", "-c", "test -x /bin/busybox && echo image; test -e /etc/os-release && echo host; hostname"); out != "image\nclient\n" {
		t.Errorf("exec in the image container printed %q", out)
	}
	// The process block's httpd runs in the web container (its PID
	// namespace: the image's httpd and it, nothing of the host's).
	if out := l.must(0, "exec", "container.web", "--", "ps", "-o", "pid,args"); strings.Count(out, "httpd -f -p") != 2 || strings.Contains(out, "sshd") {
		t.Errorf("ps in the web container:\n%s", out)
	}
	// A second apply ships nothing like an image.
	l.must(0, "apply", "-auto-approve")
	if s := sent(); s >= fi.Size()/4 {
		t.Errorf("second apply sent %d bytes (the image is %d)", s, fi.Size())
	}
	// kill -9 of the web container's init: drift, and apply restarts it
	// without shipping the image again.
	host(`kill -9 "$(runc state labnet.` + l.name + `.web | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')"; sleep 0.3`)
	if out, _, _ := l.run("plan"); !strings.Contains(out, "runc container labnet."+l.name+".web stopped, killed by signal 9 (SIGKILL)") ||
		!strings.Contains(out, "process.side") || !strings.Contains(out, "process is not running") {
		t.Errorf("plan does not show the stopped container and its process block's process:\n%s", out)
	}
	l.must(0, "apply", "-auto-approve")
	if s := sent(); s >= fi.Size()/4 {
		t.Errorf("the repair sent %d bytes (the image is %d)", s, fi.Size())
	}
	l.must(0, "test")
	if out, _, _ := l.run("plan", "-detailed-exitcode"); !strings.Contains(out, "No changes") {
		t.Errorf("plan after the repair:\n%s", out)
	}
	// What the container was made with, changed by hand in its rootfs and
	// namespaces: each is drift named by plan; its repair starts it again,
	// and the process block's process with it, in one apply.
	for _, c := range []struct{ what, script, want string }{
		{"file", "echo changed >" + run + "web/rootfs/www/index.html", "file /www/index.html is mode 644, sha256"},
		{"file mode", "chmod 600 " + run + "web/rootfs/www/index.html", "file /www/index.html is mode 600"},
		{"private dir", "rm -rf " + run + "web/rootfs/www", "private dir /www is missing"},
		{"hostname", "nsenter -t \"$(cat " + run + "web/pid)\" -u hostname other", `hostname is "other", wants "web"`},
	} {
		host(c.script)
		out, _, code := l.run("plan", "-detailed-exitcode")
		if code != 2 || !strings.Contains(out, c.want) || !strings.Contains(out, "container.web is started again") {
			t.Errorf("%s changed by hand: plan exit %d, want 2 naming %q and the process started again:\n%s", c.what, code, c.want, out)
		}
		l.must(0, "apply", "-auto-approve")
		if out, _, code := l.run("plan", "-detailed-exitcode"); code != 0 {
			t.Errorf("%s: plan after one repair: exit %d:\n%s", c.what, code, out)
		}
		l.must(0, "test")
	}
	if out := l.must(0, "logs", "container.web"); strings.Contains(out, "failed") {
		t.Errorf("web's log: %q", out)
	}
	// destroy: no runc container, overlay or bundle is left; a netns host
	// takes them with it, so check while it is there by removing the
	// containers alone first.
	os.WriteFile(filepath.Join(l.dir, "main.hcl"), []byte(strings.SplitN(mustRead(t, filepath.Join(l.dir, "main.hcl")), `container "web"`, 2)[0]), 0o644)
	l.must(0, "apply", "-auto-approve")
	if out := host("runc list -q; grep ' overlay ' /proc/self/mounts | grep -F " + run + "; ls " + run + " 2>/dev/null; true"); strings.TrimSpace(out) != "" {
		t.Errorf("after removing the containers the host still has:\n%s", out)
	}
	if out := host("ls /var/lib/labnet/images/" + digest + "/.labnet-complete"); out == "" {
		t.Errorf("the image cache went with the containers")
	}
}

func mustRead(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

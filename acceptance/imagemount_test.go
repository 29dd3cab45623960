package acceptance

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labnet-dev/labnet/image"
	"github.com/labnet-dev/labnet/internal/testutil"
)

// TestImageMounts binds a host directory read-only into an image
// container: the container reads it and cannot write it; unmounted by
// hand inside the container, the mount is drift with its reason, apply
// starts the container again with it, and the plan is empty after.
func TestImageMounts(t *testing.T) {
	testutil.NeedRoot(t)
	testutil.NeedTools(t, "runc", "busybox")
	l := newLab(t, "testdata/images")
	bb, _ := exec.LookPath("busybox")
	files, err := image.BusyboxFiles(bb, func() ([]byte, error) { return exec.Command(bb, "--list").Output() })
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(l.dir, "images"), 0o755)
	if err := image.Build(files, image.BusyboxConfig, image.DockerArchive, filepath.Join(l.dir, "images", "busybox.tar")); err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(t.TempDir(), "shared")
	os.MkdirAll(shared, 0o755)
	os.WriteFile(filepath.Join(shared, "note.txt"), []byte("from the host\n"), 0o644)
	hcl := filepath.Join(l.dir, "main.hcl")
	lab := strings.Replace(mustRead(t, hcl), `command = ["sleep", "1000000"]`,
		`command = ["sleep", "1000000"]
  mount {
    source    = "`+shared+`"
    target    = "/data"
    read_only = true
  }`, 1)
	if err := os.WriteFile(hcl, []byte(lab), 0o644); err != nil {
		t.Fatal(err)
	}
	l.must(0, "apply", "-auto-approve")
	if out, _, code := l.run("plan", "-detailed-exitcode"); code != 0 {
		t.Errorf("plan after the apply: exit %d (refresh does not see the mount as made?):\n%s", code, out)
	}
	if out := l.must(0, "exec", "container.client", "--", "cat", "/data/note.txt"); out != "from the host\n" {
		t.Errorf("the mount in the container reads %q", out)
	}
	if _, errOut, code := l.run("exec", "container.client", "--", "sh", "-c", "echo x >/data/new"); code == 0 {
		t.Errorf("a read-only mount was written to (%s)", errOut)
	}
	if _, err := os.Stat(filepath.Join(shared, "new")); err == nil {
		t.Errorf("the container wrote into the host directory")
	}
	// Unmounted inside the container by hand: drift, repaired.
	l.must(0, "exec", "host.node", "--", "sh", "-c",
		`nsenter -t "$(runc state labnet.`+l.name+`.client | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')" -m umount /data`)
	out, _, code := l.run("plan", "-detailed-exitcode")
	if code != 2 || !strings.Contains(out, "mount /data is missing") {
		t.Errorf("plan after the mount went: exit %d, want 2 naming it:\n%s", code, out)
	}
	l.must(0, "apply", "-auto-approve")
	if out := l.must(0, "exec", "container.client", "--", "cat", "/data/note.txt"); out != "from the host\n" {
		t.Errorf("after the repair the mount reads %q", out)
	}
	l.must(0, "test")
	if out, _, code := l.run("plan", "-detailed-exitcode"); code != 0 {
		t.Errorf("plan after the repair: exit %d:\n%s", code, out)
	}
}

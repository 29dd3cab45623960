package kinds_test

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
)

// What an image container's update does, by what changed and what refresh
// found: nothing, runc update (its limits), or a restart (CreateShell),
// with its files written and those gone from the lab removed.
func TestImageContainerUpdateStep(t *testing.T) {
	lab, _, diags := config.Load("../config/testdata/valid/images", config.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var a kinds.Attrs
	for _, r := range kinds.Expand(lab) {
		if r.Addr == "container.app" {
			a = r.Attrs
		}
	}
	if a == nil || a["memory"] != "1536MiB" || a["cpus"] != "0.25" || a["cgroup"] != "/labnet/images/node/app" {
		t.Fatalf("container.app: %v", a)
	}
	g, err := kinds.Get(kinds.Container)
	if err != nil {
		t.Fatal(err)
	}
	n := hostnet.Names{Lab: "images"}
	good := func() *hostnet.Observed {
		return &hostnet.Observed{Images: map[string]bool{a["image_digest"]: true}, Overlays: []string{a["bundle"] + "/rootfs"},
			Runc: map[string]*hostnet.RuncSeen{a["runc_id"]: {Status: "running", Digest: a["image_digest"], Supervised: true, Cgroup: true,
				Memory: 1536 << 20, CPUQuota: 25000, CPUPeriod: 100000, Mounts: map[string]string{"/data": "ro,relatime"},
				Files: containerFiles(t, a), Dirs: map[string]bool{"/etc/app": true}, Hostname: "app", HostnameRead: true}}}
	}
	step := func(before, after kinds.Attrs, k *hostnet.Observed) string {
		t.Helper()
		s, err := g.Step(n, kinds.Op{Addr: "container.app", Update: true, Before: before, After: after}, k)
		if err != nil {
			t.Fatal(err)
		}
		return s.Shell
	}
	restarts := func(sh string) bool { return strings.Contains(sh, "supervise.py") }
	if sh := step(a, a, good()); restarts(sh) || strings.Contains(sh, "runc update") {
		t.Errorf("nothing to do, yet:\n%s", sh)
	}
	k := good()
	k.Runc[a["runc_id"]].Memory = 1 << 30
	if sh := step(a, a, k); restarts(sh) || !strings.Contains(sh, "runc update -r - "+a["runc_id"]) {
		t.Errorf("a memory limit set by hand is not set back in place:\n%s", sh)
	}
	k = good()
	k.Runc[a["runc_id"]].Status = "stopped"
	if sh := step(a, a, k); !restarts(sh) {
		t.Errorf("a stopped container is not started again:\n%s", sh)
	}
	// A file changed and one gone: written, removed, restarted.
	before := maps.Clone(a)
	before[kinds.FilePrefix+"/etc/app/old.conf"] = kinds.FileAttr(0o644, []byte("x"))
	after := maps.Clone(a)
	after[kinds.FilePrefix+"/etc/app/app.conf"] = kinds.FileAttr(0o644, []byte("port 81\n"))
	sh := step(before, after, good())
	rm := ""
	for _, l := range strings.Split(sh, "\n") {
		if strings.Contains(l, "labnet-files") {
			rm = l
		}
	}
	if !restarts(sh) || !strings.Contains(sh, "cG9ydCA4MQo=") || !strings.Contains(rm, a["bundle"]+"/rootfs /etc/app/old.conf") || strings.Contains(rm, "app.conf") {
		t.Errorf("a change of files (removing %q):\n%s", rm, sh)
	}
	if i, j := strings.Index(sh, "labnet-files"), strings.Index(sh, "supervise.py"); i < 0 || i > j {
		t.Errorf("the gone file is not removed before the restart:\n%s", sh)
	}
}

// containerFiles is what refresh reads of an image container's files as made.
func containerFiles(t *testing.T, a kinds.Attrs) map[string]string {
	c, err := kinds.GuestOf("container.app", a)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, f := range c.Runc.Files {
		m[f.Path] = fmt.Sprintf("%o %s", f.Mode, f.Digest())
	}
	return m
}

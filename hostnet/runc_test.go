package hostnet

import (
	"reflect"
	"strings"
	"testing"
)

func testRunc() RuncContainer {
	n := Names{Lab: "img"}
	return RuncContainer{ID: n.RuncID("web"), Bundle: n.Bundle("web"), Netns: n.Netns("web"), Hostname: "web",
		Digest: "sha256:" + strings.Repeat("ab", 32), Args: []string{"/bin/httpd", "-f", "-p", "80"},
		Env: []string{"PATH=/bin"}, Cwd: "/www", UID: 1000, GID: 1000, Caps: append(append([]string{}, DefaultCaps...), "CAP_NET_ADMIN"),
		Owner: n.Owner("node-0", "container.web"), Log: n.LogFile("web"), Dirs: []string{"/www"},
		Files:  []File{{Path: "/www/index.html", Mode: 0o644, Content: []byte("hi\n")}},
		Cgroup: n.Cgroup("node-0", "web"), Memory: 256 << 20, CPUQuota: 50000}
}

// The generated config.json, byte for byte: the image's process, the
// container's network namespace joined by path, new PID, IPC, UTS and
// mount namespaces, Docker's capabilities plus cap_add, the annotations
// refresh reads back.
func TestRuncSpecGolden(t *testing.T) {
	golden(t, "runc_config.golden.json", testRunc().SpecJSON())
	p := testRunc()
	p.Privileged = true
	golden(t, "runc_config_privileged.golden.json", p.SpecJSON())
}

func TestRuncShellsGolden(t *testing.T) {
	r := testRunc()
	golden(t, "runc_create.golden", []byte(r.CreateShell()+"\n---\n"+r.Verify()+"\n---\n"+RuncDeleteShell(r.ID, r.Bundle, r.Cgroup)+"\n---\n"+
		ImageShipShell(r.Digest, []byte("a tar"), "echo then")+"\n---\n"+r.UpdateShell()+"\n---\n"+
		RuncReadShell([]RuncRead{{ID: r.ID, Bundle: r.Bundle, Cgroup: r.Cgroup}})+"---\n"+RuncSweepShell(Names{Lab: "img"}, "node-0")+"\n"))
}

// A container joining a UTS namespace (a pod's) has no hostname of its
// own; one with no limits has no memory or cpu resources.
func TestRuncSpecJoinsUTS(t *testing.T) {
	r := testRunc()
	r.UTSNS, r.Memory, r.CPUQuota = "/run/labnet/img/ns/pod.uts", 0, 0
	s := r.Spec()
	if s.Hostname != "" || s.Linux.Resources.Memory != nil || s.Linux.Resources.CPU != nil {
		t.Errorf("hostname %q, memory %v, cpu %v", s.Hostname, s.Linux.Resources.Memory, s.Linux.Resources.CPU)
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == "uts" && ns.Path != r.UTSNS {
			t.Errorf("uts namespace %+v", ns)
		}
	}
}

// Each property CreateShell sets is judged.
func TestRuncDrift(t *testing.T) {
	r := testRunc()
	good := func() *Observed {
		return &Observed{Images: map[string]bool{r.Digest: true}, Overlays: []string{r.Bundle + "/rootfs"},
			Runc: map[string]*RuncSeen{r.ID: {Status: "running", Digest: r.Digest, Pid: 7, Supervised: true, Cgroup: true,
				Memory: 256 << 20, CPUQuota: 50000, CPUPeriod: 100000, Hostname: "web", HostnameRead: true,
				Files: map[string]string{"/www/index.html": "644 " + r.Files[0].Digest()}, Dirs: map[string]bool{"/www": true}}}}
	}
	if d, _ := r.Drift(good()); len(d) != 0 || r.RepairShell(good()) != "" {
		t.Fatalf("drift on a good read: %v", d)
	}
	for name, c := range map[string]struct {
		breakIt      func(*RuncSeen, *Observed)
		want         string
		unrepairable bool
		repair       string // what RepairShell does: restart or update
	}{
		"image":        {func(_ *RuncSeen, o *Observed) { o.Images = map[string]bool{} }, "is not on the host", false, "restart"},
		"overlay":      {func(_ *RuncSeen, o *Observed) { o.Overlays = nil }, "is not mounted", false, "restart"},
		"missing":      {func(_ *RuncSeen, o *Observed) { o.Runc = map[string]*RuncSeen{} }, "is missing", false, "restart"},
		"exited":       {func(s *RuncSeen, _ *Observed) { s.Status, s.Exit = "stopped", "exit 3" }, "stopped, exit code 3", false, "restart"},
		"file content": {func(s *RuncSeen, _ *Observed) { s.Files["/www/index.html"] = "644 " + strings.Repeat("0", 64) }, "file /www/index.html is mode 644, sha256 000000000000, wants mode 644", false, "restart"},
		"file mode":    {func(s *RuncSeen, _ *Observed) { s.Files["/www/index.html"] = "600 " + r.Files[0].Digest() }, "file /www/index.html is mode 600", false, "restart"},
		"file gone":    {func(s *RuncSeen, _ *Observed) { s.Files["/www/index.html"] = "missing" }, "file /www/index.html is missing", false, "restart"},
		"dir gone":     {func(s *RuncSeen, _ *Observed) { delete(s.Dirs, "/www") }, "private dir /www is missing", false, "restart"},
		"hostname":     {func(s *RuncSeen, _ *Observed) { s.Hostname = "other" }, `hostname is "other", wants "web"`, false, "restart"},
		"killed":       {func(s *RuncSeen, _ *Observed) { s.Status, s.Exit = "stopped", "signal 15" }, "stopped, killed by signal 15 (SIGTERM)", false, "restart"},
		"oom":          {func(s *RuncSeen, _ *Observed) { s.Status, s.Exit, s.OOMKills = "stopped", "exit 137", 1 }, "stopped, exit code 137, out of memory (1 OOM kill(s)", false, "restart"},
		"unrecorded":   {func(s *RuncSeen, _ *Observed) { s.Status = "stopped" }, "stopped, its end was not recorded", false, "restart"},
		"created":      {func(s *RuncSeen, _ *Observed) { s.Status = "created" }, "is created", false, "restart"},
		"unsupervised": {func(s *RuncSeen, _ *Observed) { s.Supervised = false }, "runs without its supervisor", false, "restart"},
		"no cgroup":    {func(s *RuncSeen, _ *Observed) { s.Cgroup = false }, "is not in its cgroup /labnet/img/node-0/web", false, "restart"},
		"memory":       {func(s *RuncSeen, _ *Observed) { s.Memory = 512 << 20 }, "memory limit is 512MiB, wants 256MiB", false, "update"},
		"no memory":    {func(s *RuncSeen, _ *Observed) { s.Memory = -1 }, "memory limit is none, wants 256MiB", false, "update"},
		"cpus":         {func(s *RuncSeen, _ *Observed) { s.CPUQuota = 200000 }, "cpus is 2, wants 0.5", false, "update"},
		"no cpus":      {func(s *RuncSeen, _ *Observed) { s.CPUQuota = -1 }, "cpus is unlimited, wants 0.5", false, "update"},
		"period":       {func(s *RuncSeen, _ *Observed) { s.CPUPeriod = 200000 }, "cpus is 0.25 (50000 µs per 200000), wants 0.5", false, "update"},
		"digest":       {func(s *RuncSeen, _ *Observed) { s.Digest = "sha256:00" }, "runs image \"sha256:00\"", true, "restart"},
	} {
		o := good()
		c.breakIt(o.Runc[r.ID], o)
		d, u := r.Drift(o)
		if len(d) != 1 || !strings.Contains(d[0], c.want) || u != c.unrepairable {
			t.Errorf("%s: drift %v unrepairable %v, wants %q %v", name, d, u, c.want, c.unrepairable)
		}
		repair := map[string]string{r.CreateShell(): "restart", r.UpdateShell(): "update"}[r.RepairShell(o)]
		if repair != c.repair {
			t.Errorf("%s: repaired by %q, wants %s", name, repair, c.repair)
		}
	}
	// The kernel keeps a memory limit rounded down to its page size.
	o := good()
	r.Memory = 256<<20 + 100
	if d, _ := r.Drift(o); len(d) != 0 {
		t.Errorf("a limit rounded down to a page is drift: %v", d)
	}
	// No limits wanted: none must be set.
	r.Memory, r.CPUQuota = 0, 0
	o.Runc[r.ID].Memory, o.Runc[r.ID].CPUQuota = -1, -1
	if d, _ := r.Drift(o); len(d) != 0 {
		t.Errorf("no limits: %v", d)
	}
	o.Runc[r.ID].Memory = 1 << 30
	if d, _ := r.Drift(o); len(d) != 1 || d[0] != "memory limit is 1GiB, wants none" {
		t.Errorf("a limit nobody wants: %v", d)
	}
}

func TestFormatMemory(t *testing.T) {
	for b, want := range map[int64]string{256 << 20: "256MiB", 1 << 30: "1GiB", 1536 << 20: "1536MiB", 100e6: "100MB", 4097: "4097B", -1: "none"} {
		if got := FormatMemory(b); got != want {
			t.Errorf("FormatMemory(%d) = %q, wants %q", b, got, want)
		}
	}
}

// labnet_runc's "=" lines after runc's JSON, from cgroup v1 and v2.
func TestParseRuncStateLines(t *testing.T) {
	js := "{\n  \"status\": \"stopped\",\n  \"pid\": 0,\n  \"annotations\": {\"dev.labnet.image.digest\": \"sha256:ab\"}\n}\n\n"
	for name, c := range map[string]struct {
		lines string
		want  RuncSeen
	}{
		"v1": {"=exit signal 9\n=supervised\n=cgroup\n=memory 268435456\n=oom 2\n=cpu 50000 100000\n",
			RuncSeen{Status: "stopped", Digest: "sha256:ab", Exit: "signal 9", Supervised: true, Cgroup: true, Memory: 256 << 20, OOMKills: 2, CPUQuota: 50000, CPUPeriod: 100000}},
		"v1 unlimited": {"=cgroup\n=memory 9223372036854771712\n=oom 0\n=cpu -1 100000\n",
			RuncSeen{Status: "stopped", Digest: "sha256:ab", Cgroup: true, Memory: -1, CPUQuota: -1, CPUPeriod: 100000}},
		"v2": {"=exit exit 0\n=cgroup\n=memory max\n=oom 0\n=cpu max 100000\n",
			RuncSeen{Status: "stopped", Digest: "sha256:ab", Exit: "exit 0", Cgroup: true, Memory: -1, CPUQuota: -1, CPUPeriod: 100000}},
		"no cgroup": {"", RuncSeen{Status: "stopped", Digest: "sha256:ab", Memory: -1, CPUQuota: -1}},
		"mounts": {"=supervised\n=mount /data ro,relatime\n=mount /logs rw,relatime\n",
			RuncSeen{Status: "stopped", Digest: "sha256:ab", Supervised: true, Memory: -1, CPUQuota: -1,
				Mounts: map[string]string{"/data": "ro,relatime", "/logs": "rw,relatime"}}},
	} {
		s, err := parseRuncState([]byte(js + c.lines))
		if err != nil || !reflect.DeepEqual(*s, c.want) {
			t.Errorf("%s: %+v %v, wants %+v", name, s, err, c.want)
		}
	}
	if _, err := parseRuncState([]byte(js + "=cpu 5\n")); err == nil {
		t.Errorf("a cpu line without a period is read")
	}
}

func TestParseRuncState(t *testing.T) {
	o, err := ParseObserved([]byte("@@runc labnet.img.web\n{\n  \"ociVersion\": \"1.0.2-dev\",\n  \"id\": \"labnet.img.web\",\n  \"pid\": 4812,\n  \"status\": \"running\",\n  \"bundle\": \"/b\",\n  \"annotations\": {\"dev.labnet.image.digest\": \"sha256:ab\"}\n}\n@@runc labnet.img.gone\n\n@@image sha256:ab\n@@overlays\n/run/labnet/img/runc/web/rootfs\n@@end\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := o.Runc["labnet.img.web"]
	if s == nil || s.Pid != 4812 || s.Status != "running" || s.Digest != "sha256:ab" || s.Bundle != "/b" || o.Runc["labnet.img.gone"] != nil ||
		!o.Images["sha256:ab"] || len(o.Overlays) != 1 {
		t.Errorf("read %+v %+v %v", s, o.Images, o.Overlays)
	}
}

// A container refresh found nothing of is made without deleting an old
// container or looking for a mounted overlay first; any other is not.
func TestRuncFreshCreate(t *testing.T) {
	r := testRunc()
	// The bundle's script and the run line (its last) say whether to look
	// for what an earlier container left.
	last := func(sh string) string { return sh[strings.LastIndex(sh, "\n")+1:] }
	if sh := r.CreateShell(); !strings.Contains(sh, " /run/labnet/img/runc/web again /www") || !strings.Contains(last(sh), " again") {
		t.Errorf("a container that may be there is made as if it were not:\n%s", sh)
	}
	r.Fresh = true
	if sh := r.CreateShell(); !strings.Contains(sh, " /run/labnet/img/runc/web fresh /www") || !strings.Contains(last(sh), " fresh") {
		t.Errorf("a fresh container is not made as one:\n%s", sh)
	}
}

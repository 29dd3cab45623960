package hostnet

import (
	"strings"
	"testing"
)

func testRunc() RuncContainer {
	n := Names{Lab: "img"}
	return RuncContainer{ID: n.RuncID("web"), Bundle: n.Bundle("web"), Netns: n.Netns("web"), Hostname: "web",
		Digest: "sha256:" + strings.Repeat("ab", 32), Args: []string{"/bin/httpd", "-f", "-p", "80"},
		Env: []string{"PATH=/bin"}, Cwd: "/www", UID: 1000, GID: 1000, Caps: append(append([]string{}, DefaultCaps...), "CAP_NET_ADMIN"),
		Owner: n.Owner("node-0", "container.web"), Log: n.LogFile("web"), Dirs: []string{"/www"},
		Files: []File{{Path: "/www/index.html", Mode: 0o644, Content: []byte("hi\n")}}}
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
	golden(t, "runc_create.golden", []byte(r.CreateShell()+"\n---\n"+r.Verify()+"\n---\n"+RuncDeleteShell(r.ID, r.Bundle)+"\n---\n"+
		ImageShipShell(r.Digest, []byte("a tar"), "echo then")+"\n"))
}

// Each property CreateShell sets is judged.
func TestRuncDrift(t *testing.T) {
	r := testRunc()
	good := func() *Observed {
		return &Observed{Images: map[string]bool{r.Digest: true}, Overlays: []string{r.Bundle + "/rootfs"},
			Runc: map[string]*RuncSeen{r.ID: {Status: "running", Digest: r.Digest, Pid: 7}}}
	}
	if d, _ := r.Drift(good()); len(d) != 0 {
		t.Fatalf("drift on a good read: %v", d)
	}
	for name, c := range map[string]struct {
		breakIt      func(*Observed)
		want         string
		unrepairable bool
	}{
		"image":   {func(o *Observed) { o.Images = map[string]bool{} }, "is not on the host", false},
		"overlay": {func(o *Observed) { o.Overlays = nil }, "is not mounted", false},
		"missing": {func(o *Observed) { o.Runc = map[string]*RuncSeen{} }, "is missing", false},
		"stopped": {func(o *Observed) { o.Runc[r.ID].Status = "stopped" }, "is stopped", false},
		"digest":  {func(o *Observed) { o.Runc[r.ID].Digest = "sha256:00" }, "runs image \"sha256:00\"", true},
	} {
		o := good()
		c.breakIt(o)
		d, u := r.Drift(o)
		if len(d) != 1 || !strings.Contains(d[0], c.want) || u != c.unrepairable {
			t.Errorf("%s: drift %v unrepairable %v, wants %q %v", name, d, u, c.want, c.unrepairable)
		}
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
	if sh := r.CreateShell(); !strings.Contains(sh, " /run/labnet/img/runc/web again /www") || !strings.HasSuffix(sh, " /run/labnet/img/web.log again") {
		t.Errorf("a container that may be there is made as if it were not:\n%s", sh)
	}
	r.Fresh = true
	if sh := r.CreateShell(); !strings.Contains(sh, " /run/labnet/img/runc/web fresh /www") || !strings.HasSuffix(sh, " /run/labnet/img/web.log fresh") {
		t.Errorf("a fresh container is not made as one:\n%s", sh)
	}
}

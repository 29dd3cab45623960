package kinds_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
)

// podApp is pod.web/app of config/testdata/valid/images: an image
// container of a pod, with a private dir and a file.
func podApp(t *testing.T) (kinds.Kind, kinds.Attrs) {
	t.Helper()
	for _, r := range sample(t) {
		if r.Addr == "pod.web/app" {
			if r.Kind != kinds.PodContainer {
				t.Fatalf("pod.web/app is a %s", r.Kind)
			}
			k, _ := kinds.Get(r.Kind)
			return k, r.Attrs
		}
	}
	t.Fatal("no pod.web/app in the sample labs")
	return nil, nil
}

// healthy is what refresh reads of a running pod container.
func healthy(a kinds.Attrs) *hostnet.Observed {
	return &hostnet.Observed{
		Runc: map[string]*hostnet.RuncSeen{a["runc_id"]: {Status: "running", Pid: 42, Digest: a["image_digest"], Bundle: a["bundle"],
			Supervised: true, Cgroup: true, Memory: -1, CPUQuota: -1, CPUPeriod: 100000, Mounts: map[string]string{"/logs": "rw,relatime"},
			Files: podFiles(a), Dirs: map[string]bool{"/etc/app": true}}},
		Images:   map[string]bool{a["image_digest"]: true},
		Overlays: []string{a["bundle"] + "/rootfs"},
		Iso:      map[string]*hostnet.IsoSeen{a["uts_ns"]: {UTS: true, Hostname: "web"}},
	}
}

func TestPodContainerAttrs(t *testing.T) {
	_, a := podApp(t)
	n := hostnet.Names{Lab: "images"}
	for k, want := range map[string]string{
		"pod": "pod.web", "host": "host.node", "netns": n.Netns("web"), "uts_ns": n.PodUTSNS("web"), "hostname": "web",
		"runc_id": n.RuncID("web.app"), "bundle": n.Bundle("web.app"), "log": n.LogFile("web.app"), "owner": n.Owner("node", "pod.web/app"),
	} {
		if a[k] != want {
			t.Errorf("%s = %q, want %q", k, a[k], want)
		}
	}
	// What replaces it: an image container's image, process and layer,
	// and its place in the pod; nothing of a bridge.
	fn := kinds.Of(kinds.PodContainer).ForceNew
	for _, want := range []string{"pod", "host", "netns", "uts_ns", "hostname", "image_digest", "args", "env", "caps", "private_dirs"} {
		if !slices.Contains(fn, want) {
			t.Errorf("ForceNew %v lacks %s", fn, want)
		}
	}
	if slices.Contains(fn, "bridge") || slices.Contains(fn, "mount_ns") {
		t.Errorf("ForceNew %v names a bridge container's attribute", fn)
	}
	if d, ok := kinds.DescriberOf(kinds.PodContainer); !ok || d.Describe(a)[0] != "in pod.web" {
		t.Errorf("inspect does not list it in its pod")
	}
	rc, err := kinds.PodContainerOf("pod.web/app", a)
	if err != nil {
		t.Fatal(err)
	}
	// Its config.json joins the pod's network and UTS namespaces, and
	// sets no hostname (the pod's namespace holds it).
	s := rc.Spec()
	if s.Hostname != "" {
		t.Errorf("hostname %q set in a joined UTS namespace", s.Hostname)
	}
	paths := map[specs.LinuxNamespaceType]string{}
	for _, ns := range s.Linux.Namespaces {
		paths[ns.Type] = ns.Path
	}
	want := map[specs.LinuxNamespaceType]string{specs.NetworkNamespace: "/run/netns/" + n.Netns("web"), specs.UTSNamespace: n.PodUTSNS("web"),
		specs.PIDNamespace: "", specs.MountNamespace: "", specs.IPCNamespace: ""}
	if !maps.Equal(paths, want) {
		t.Errorf("namespaces %v, want %v", paths, want)
	}
}

func TestPodContainerJudge(t *testing.T) {
	k, a := podApp(t)
	n := hostnet.Names{Lab: "images"}
	for _, tc := range []struct {
		name         string
		breakIt      func(o *hostnet.Observed)
		exists       bool
		drift        string
		unrepairable bool
	}{
		{"as made", func(o *hostnet.Observed) {}, true, "", false},
		{"stopped", func(o *hostnet.Observed) {
			o.Runc[a["runc_id"]].Status, o.Runc[a["runc_id"]].Exit = "stopped", "exit 2"
		}, true, "stopped, exit code 2", false},
		{"gone", func(o *hostnet.Observed) { o.Runc = nil; o.Overlays = nil }, false, "is missing", false},
		{"other image", func(o *hostnet.Observed) { o.Runc[a["runc_id"]].Digest = "sha256:00" }, true, "runs image", true},
		{"overlay unmounted", func(o *hostnet.Observed) { o.Overlays = nil }, true, "is not mounted", false},
		{"uts namespace gone", func(o *hostnet.Observed) { o.Iso[a["uts_ns"]].UTS = false }, true, "uts namespace", true},
		{"hostname changed", func(o *hostnet.Observed) { o.Iso[a["uts_ns"]].Hostname = "x" }, true, `hostname is "x", wants "web"`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := healthy(a)
			tc.breakIt(o)
			v, err := k.Judge(n, "pod.web/app", a, o, false)
			if err != nil {
				t.Fatal(err)
			}
			d := strings.Join(v.Drift, "; ")
			if v.Exists != tc.exists || v.Unrepairable != tc.unrepairable || (tc.drift == "") != (d == "") || !strings.Contains(d, tc.drift) {
				t.Errorf("verdict %+v, want exists %v, drift %q, unrepairable %v", v, tc.exists, tc.drift, tc.unrepairable)
			}
		})
	}
}

func TestPodContainerSteps(t *testing.T) {
	k, a := podApp(t)
	n := hostnet.Names{Lab: "images"}
	uts := n.PodUTSNS("web")
	// Create: the pod's UTS namespace first, then the bundle and runc.
	st, err := k.Step(n, kinds.Op{Addr: "pod.web/app", After: a}, nil)
	if err != nil {
		t.Fatal(err)
	}
	iu, ir := strings.Index(st.Shell, "unshare --uts="), strings.Index(st.Shell, "supervise.py")
	if iu < 0 || ir < 0 || iu > ir || !strings.Contains(st.Shell, uts) || st.Image == nil || st.Image.Digest != a["image_digest"] || st.Verify == "" {
		t.Errorf("create step: image %+v verify %q shell:\n%s", st.Image, st.Verify, st.Shell)
	}
	// An update that finds it as made does nothing.
	st, _ = k.Step(n, kinds.Op{Addr: "pod.web/app", Update: true, Before: a, After: a}, healthy(a))
	if st.Shell != "" || st.Image != nil {
		t.Errorf("update of a healthy container: %+v", st)
	}
	// A stopped one is started again; the image is there, so not shipped.
	o := healthy(a)
	o.Runc[a["runc_id"]].Status = "stopped"
	st, _ = k.Step(n, kinds.Op{Addr: "pod.web/app", Update: true, Before: a, After: a}, o)
	if !strings.Contains(st.Shell, "supervise.py") || strings.Contains(st.Shell, "unshare") || st.Image != nil {
		t.Errorf("repair of a stopped container: %+v", st)
	}
	// A changed hostname is set again, and nothing else.
	o = healthy(a)
	o.Iso[uts].Hostname = "x"
	st, _ = k.Step(n, kinds.Op{Addr: "pod.web/app", Update: true, Before: a, After: a}, o)
	if !strings.Contains(st.Shell, "hostname") || strings.Contains(st.Shell, "supervise.py") {
		t.Errorf("repair of the hostname: %s", st.Shell)
	}
	// A changed file restarts it, and a gone file is removed from its layer.
	after := maps.Clone(a)
	after["file:/etc/app/app.conf"] = kinds.FileAttr(0o600, []byte("new\n"))
	before := maps.Clone(a)
	before["file:/etc/app/old.conf"] = kinds.FileAttr(0o644, []byte("old\n"))
	st, _ = k.Step(n, kinds.Op{Addr: "pod.web/app", Update: true, Before: before, After: after}, healthy(a))
	if !strings.Contains(st.Shell, "supervise.py") || !strings.Contains(st.Shell, "/etc/app/old.conf") || st.Image != nil {
		t.Errorf("file change: %+v", st)
	}
	// Delete: the runc container, overlay and bundle, then the pod's UTS
	// namespace if no other bundle joins it.
	st, _ = k.Step(n, kinds.Op{Addr: "pod.web/app", Delete: true, Before: a}, nil)
	if id, rel := strings.Index(st.Shell, "runc delete -f"), strings.Index(st.Shell, "config.json"); id < 0 || rel < id || !strings.Contains(st.Shell, uts) {
		t.Errorf("delete step:\n%s", st.Shell)
	}
}

// TestPodContainerFaults: stop kills it; start runs it again when it is
// not running.
func TestPodContainerFaults(t *testing.T) {
	_, a := podApp(t)
	f, ok := kinds.FaulterOf(kinds.PodContainer)
	if !ok {
		t.Fatal("pod_container has no faults")
	}
	n := hostnet.Names{Lab: "images"}
	stop, _ := f.Fault(n, "pod.web/app", a, "stop")
	start, _ := f.Fault(n, "pod.web/app", a, "start")
	if !strings.Contains(stop.Shell, "runc kill") || !strings.Contains(start.Shell, "supervise.py") || start.Verify == "" {
		t.Errorf("stop %q\nstart %q", stop.Shell, start.Shell)
	}
}

// podFiles is what refresh reads of the container's files as made.
func podFiles(a kinds.Attrs) map[string]string {
	rc, _ := kinds.PodContainerOf("pod.web/app", a)
	m := map[string]string{}
	for _, f := range rc.Files {
		m[f.Path] = fmt.Sprintf("%o %s", f.Mode, f.Digest())
	}
	return m
}

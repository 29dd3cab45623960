package plan

import (
	"bytes"
	"strings"
	"testing"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
)

func isoLab(t *testing.T) []*kinds.Resource {
	t.Helper()
	lab, _, diags := config.Load("../config/testdata/valid/isolation", config.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return kinds.Expand(lab)
}

// TestFileChangeIsAnUpdate: a file's new content or mode updates its
// container in place (the plan shows the file's attribute, not a
// replacement), and replaces, that is restarts, the processes on that
// container only: the other router's and the plain container's stay.
func TestFileChangeIsAnUpdate(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		show        string
	}{
		{"content", kinds.FileAttr(0o640, []byte("hostname r1\nrouter ospf\n")), `~ file:/etc/frr/frr.conf = "mode 0640, 12 bytes, sha256 7e139a0aa1a3" -> "mode 0640, 24 bytes, sha256 `},
		{"mode", kinds.FileAttr(0o600, []byte("hostname r1\n")), `~ file:/etc/frr/frr.conf = "mode 0640, 12 bytes, sha256 7e139a0aa1a3" -> "mode 0600, 12 bytes, sha256 7e139a0aa1a3"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := isoLab(t)
			st := applied(before)
			want := isoLab(t)
			for _, w := range want {
				if w.Addr == "container.r[1]" {
					w.Attrs["file:/etc/frr/frr.conf"] = tc.value
				}
			}
			// The processes' digest follows the lab's files (expand does it).
			for _, w := range want {
				if w.Addr == "process.zebra[1]" {
					files := map[string]string{}
					for k, v := range find(want, "container.r[1]").Attrs {
						if strings.HasPrefix(k, kinds.FilePrefix) {
							files[k] = v
						}
					}
					w.Attrs["node_files"] = kinds.FilesDigest(files)
				}
			}
			p := Make("iso", want, st, observedLab("iso", before), Options{})
			got := actions(p)
			wantActions := map[string]Action{"container.r[1]": Update, "process.zebra[1]": Replace}
			if len(got) != len(wantActions) || got["container.r[1]"] != Update || got["process.zebra[1]"] != Replace {
				t.Fatalf("actions = %v, want %v", got, wantActions)
			}
			if f := change(p, "process.zebra[1]").Forced; len(f) != 1 || f[0] != "node_files" {
				t.Errorf("zebra[1] forced by %q, want node_files", f)
			}
			var b bytes.Buffer
			Render(&b, p, false)
			out := b.String()
			if !strings.Contains(out, "~ container.r[1] on host.h") || !strings.Contains(out, tc.show) || strings.Contains(out, "base64") ||
				strings.Contains(out, find(want, "container.r[1]").Attrs["file:/etc/frr/frr.conf"]) {
				t.Errorf("plan does not show the file's change as an update (mode, size, digest):\n%s", out)
			}
			if !strings.Contains(out, "node_files = ") || !strings.Contains(out, "# forces replacement") {
				t.Errorf("plan does not say why zebra[1] restarts:\n%s", out)
			}
		})
	}
}

// TestIsolationDriftIsRepairedInPlace: what refresh reads inside a
// container's namespaces is judged against what create made; a file, a
// private dir or the hostname is repaired in place, a namespace gone
// remakes the container and with it its processes.
func TestIsolationDriftIsRepairedInPlace(t *testing.T) {
	n := hostnet.Names{Lab: "iso"}
	for _, tc := range []struct {
		name   string
		tamper func(*hostnet.IsoSeen)
		reason string
		action Action
	}{
		{"file deleted", func(s *hostnet.IsoSeen) { delete(s.Files, "/etc/frr/frr.conf") }, "file /etc/frr/frr.conf is missing", Update},
		{"file changed", func(s *hostnet.IsoSeen) { s.Files["/etc/frr/daemons"] = hostnet.FileSeen{SHA256: "00", Mode: 0o644} }, "file /etc/frr/daemons: content differs", Update},
		{"file mode", func(s *hostnet.IsoSeen) {
			s.Files["/etc/frr/daemons"] = hostnet.FileSeen{SHA256: s.Files["/etc/frr/daemons"].SHA256, Mode: 0o777}
		}, "file /etc/frr/daemons: mode is 0777, wants 0644", Update},
		{"file replaced by a directory", func(s *hostnet.IsoSeen) { s.Files["/etc/frr/daemons"] = hostnet.FileSeen{Mode: 0o755} }, "file /etc/frr/daemons is not a regular file", Update},
		{"private dir unmounted", func(s *hostnet.IsoSeen) { s.Tmpfs = []string{"/etc/frr"} }, "private dir /var/run/frr is not mounted", Update},
		{"hostname", func(s *hostnet.IsoSeen) { s.Hostname = "h" }, `hostname is "h", wants "r-0"`, Update},
		{"hosts entry", func(s *hostnet.IsoSeen) { s.Hosts = false }, "hostname r-0 is not in /etc/hosts", Update},
		{"sysfs", func(s *hostnet.IsoSeen) { s.SysMAC = "02:00:00:00:00:01" }, `/sys shows another network namespace (eth0 MAC "02:00:00:00:00:01")`, Update},
		{"uts namespace gone", func(s *hostnet.IsoSeen) { s.UTS = false }, "uts namespace " + n.UTSNS("r-0") + " is missing", Replace},
		{"mount namespace gone", func(s *hostnet.IsoSeen) { s.Mount = false }, "mount namespace " + n.MountNS("r-0") + " is missing", Replace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := isoLab(t)
			obs := observedLab("iso", want)
			tc.tamper(obs.Kernel["host.h"].Iso[n.MountNS("r-0")])
			p := Make("iso", want, applied(want), obs, Options{})
			c := change(p, "container.r[0]")
			if c.Action != tc.action || len(c.Status.Drift) != 1 || c.Status.Drift[0] != tc.reason {
				t.Fatalf("container.r[0]: %s, drift %q; want %s with %q", c.Action, c.Status.Drift, tc.action, tc.reason)
			}
			wantZebra := NoOp
			if tc.action == Replace {
				wantZebra = Replace
			}
			if z := change(p, "process.zebra[0]"); z.Action != wantZebra {
				t.Errorf("process.zebra[0]: %s, want %s", z.Action, wantZebra)
			}
			if len(p.Changes) != map[Action]int{Update: 1, Replace: 2}[tc.action] {
				t.Errorf("%d changes: %v", len(p.Changes), actions(p))
			}
		})
	}
	// Untouched: nothing to do.
	want := isoLab(t)
	if p := Make("iso", want, applied(want), observedLab("iso", want), Options{}); len(p.Changes) != 0 {
		t.Errorf("changes on an untouched lab: %v", actions(p))
	}
}

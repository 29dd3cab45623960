package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

const isoBase = lanHCL + `host "h" { network = network.lan }
bridge "br" {
  host = host.h
  cidr = "172.17.0.0/16"
}
`

// isoLine is the first line of the container block in isoBase + a case's
// source: positions below are counted from it.
var isoLine = strings.Count(isoBase, "\n") + 1

// TestContainerIsolation decodes private dirs and files: the typed values
// and the exports.
func TestContainerIsolation(t *testing.T) {
	dir := writeLab(t, map[string]string{"main.hcl": isoBase + `container "r" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr", "/var/run/frr"]
  file "/etc/frr/frr.conf" {
    content = "hostname r\n"
    mode    = "0640"
  }
  file "/etc/frr/sub/daemons" {
    source = "daemons.txt"
    mode   = 755
  }
  file "/var/run/frr/x" { content = "" }
}
output "o" { value = [container.r.private_dirs, container.r.file] }
`, "daemons.txt": "zebra=yes\x00\xff"})
	lab := loadOK(t, dir, Options{})
	c := lab.Containers()[0]
	if strings.Join(c.PrivateDirs, " ") != "/etc/frr /var/run/frr" {
		t.Errorf("private dirs = %q", c.PrivateDirs)
	}
	want := []File{
		{Path: "/etc/frr/frr.conf", Mode: 0o640, Content: []byte("hostname r\n")},
		{Path: "/etc/frr/sub/daemons", Mode: 0o755, Content: []byte("zebra=yes\x00\xff")},
		{Path: "/var/run/frr/x", Mode: 0o644, Content: []byte{}},
	}
	if len(c.Files) != len(want) {
		t.Fatalf("files = %+v", c.Files)
	}
	for i, f := range c.Files {
		if f.Path != want[i].Path || f.Mode != want[i].Mode || string(f.Content) != string(want[i].Content) {
			t.Errorf("file %d = %q %o %q, want %q %o %q", i, f.Path, f.Mode, f.Content, want[i].Path, want[i].Mode, want[i].Content)
		}
	}
	got := string(mustJSON(t, lab.Outputs[0].Value))
	if w := `[["/etc/frr","/var/run/frr"],[{"mode":"0640","path":"/etc/frr/frr.conf"},{"mode":"0755","path":"/etc/frr/sub/daemons"},{"mode":"0644","path":"/var/run/frr/x"}]]`; got != w {
		t.Errorf("exports:\n got %s\nwant %s", got, w)
	}
	// None of either: empty lists, no error.
	lab = loadOK(t, writeLab(t, map[string]string{"main.hcl": isoBase + `container "c" {
  host   = host.h
  bridge = bridge.br
}
output "o" { value = [container.c.private_dirs, container.c.file] }
`}), Options{})
	if got := string(mustJSON(t, lab.Outputs[0].Value)); got != `[[],[]]` {
		t.Errorf("exports without isolation: %s", got)
	}
}

// TestContainerIsolationErrors: each bad private dir or file is one
// diagnostic at the line and column of what is wrong (counted from the
// container block's first line), and no lab comes back.
func TestContainerIsolationErrors(t *testing.T) {
	tests := []struct {
		name      string
		src       string // the container block; isoBase comes before it
		line, col int    // of the diagnostic, from the container block's first line (1)
		want      string
	}{
		{"relative private dir", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr", "var/run/frr"]
}`, 4, 31, `private_dirs[1] "var/run/frr" is not an absolute path`},
		{"duplicate private dir", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr", "/run/x", "/etc/frr"]
}`, 4, 41, `Duplicate private dir: private_dirs[2] "/etc/frr" is already listed`},
		{"nested private dirs", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr/sub", "/etc/frr"]
}`, 4, 35, `"/etc/frr" and "/etc/frr/sub" are inside one another`},
		{"root as a private dir", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/"]
}`, 4, 19, `is the root directory`},
		{"unclean private dir", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr/"]
}`, 4, 19, `is not a clean path (no trailing /, //, . or .. components); write "/etc/frr"`},
		{"shell characters in a private dir", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/$(reboot)"]
}`, 4, 19, `may contain only letters, digits`},
		{"private dir in /proc", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr", "/proc/sys"]
}`, 4, 31, `private_dirs[1] "/proc/sys" is in /proc, which labnet needs as the host has it`},
		{"private dir on labnet's namespace files", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/run/netns"]
}`, 4, 19, `"/run/netns" is in /run/netns`},
		{"private dirs not a list", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = "/etc/frr"
}`, 4, 18, `must be a list of absolute paths`},
		{"relative file path", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr"]
  file "etc/frr/frr.conf" { content = "x" }
}`, 5, 8, `The file path "etc/frr/frr.conf" is not an absolute path`},
		{"duplicate file path", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr"]
  file "/etc/frr/frr.conf" { content = "x" }
  file "/etc/frr/frr.conf" { content = "y" }
}`, 6, 8, `The file "/etc/frr/frr.conf" of container.c is already declared at`},
		{"file outside the private dirs", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr"]
  file "/etc/hosts" { content = "x" }
}`, 5, 8, `not inside one of its private_dirs (/etc/frr)`},
		{"file that is a private dir", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr"]
  file "/etc/frr" { content = "x" }
}`, 5, 8, `not inside one of its private_dirs`},
		{"both content and source", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr"]
  file "/etc/frr/a" {
    content = "x"
    source  = "a.txt"
  }
}`, 7, 5, `Conflicting content and source: A file block sets exactly one of content (the text) and source (a file to copy); "/etc/frr/a" sets both.`},
		{"neither content nor source", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr"]
  file "/etc/frr/a" { mode = "0600" }
}`, 5, 3, `Missing content or source`},
		{"null content", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr"]
  file "/etc/frr/a" { content = null }
}`, 5, 33, `The argument "content" is required and must not be null`},
		{"mode not octal", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr"]
  file "/etc/frr/a" {
    content = "x"
    mode    = "0648"
  }
}`, 7, 15, `The mode "0648" of file "/etc/frr/a" must be 3 or 4 octal digits`},
		{"mode too long", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr"]
  file "/etc/frr/a" {
    content = "x"
    mode    = "100644"
  }
}`, 7, 15, `must be 3 or 4 octal digits`},
		{"missing source", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr"]
  file "/etc/frr/a" { source = "nope/a.txt" }
}`, 5, 32, `The source "nope/a.txt" of file "/etc/frr/a" cannot be read`},
		{"content too large", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr"]
  file "/etc/frr/a" { content = join("", [for i in range(1000) : format("%1050s", "")]) }
}`, 5, 33, `is 1050000 bytes; files may be at most 1048576 bytes`},
		{"unknown file argument", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr"]
  file "/etc/frr/a" {
    content = "x"
    owner   = "frr"
  }
}`, 7, 5, `Unsupported argument`},
		{"file without a label", `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/frr"]
  file { content = "x" }
}`, 5, 8, `Missing path for file`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeLab(t, map[string]string{"main.hcl": isoBase + tc.src + "\n"})
			lab, _, diags := Load(dir, Options{})
			if lab != nil {
				t.Errorf("a lab came back despite the error")
			}
			var errs []string
			var at *hcl.Diagnostic
			for _, d := range diags {
				if d.Severity != hcl.DiagError {
					continue
				}
				where := "-"
				if d.Subject != nil {
					where = fmt.Sprintf("%s:%d:%d", filepath.Base(d.Subject.Filename), d.Subject.Start.Line, d.Subject.Start.Column)
				}
				errs = append(errs, where+" "+d.Summary+": "+d.Detail)
				if d.Subject != nil && d.Subject.Start.Line == isoLine+tc.line-1 && d.Subject.Start.Column == tc.col &&
					strings.Contains(d.Summary+": "+d.Detail, tc.want) {
					at = d
				}
			}
			if at == nil {
				t.Fatalf("want %q at main.hcl:%d:%d; got:\n%s", tc.want, isoLine+tc.line-1, tc.col, strings.Join(errs, "\n"))
			}
			if len(errs) != 1 {
				t.Errorf("want exactly one error; got:\n%s", strings.Join(errs, "\n"))
			}
		})
	}
}

// TestFileSourceIsReadAtLoad: a source file's bytes are what the lab holds,
// so a change to it is a change to the lab (not a read on the host).
func TestFileSourceIsReadAtLoad(t *testing.T) {
	dir := writeLab(t, map[string]string{"main.hcl": isoBase + `container "c" {
  host         = host.h
  bridge       = bridge.br
  private_dirs = ["/etc/demo"]
  file "/etc/demo/a" { source = "a.txt" }
}
`, "a.txt": "one"})
	if got := string(loadOK(t, dir, Options{}).Containers()[0].Files[0].Content); got != "one" {
		t.Fatalf("content %q", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := string(loadOK(t, dir, Options{}).Containers()[0].Files[0].Content); got != "two" {
		t.Fatalf("content after the change %q", got)
	}
}

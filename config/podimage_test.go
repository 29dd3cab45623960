package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// writePodLab writes a lab with one pod whose container blocks are body,
// beside the images of writeImageLab.
func writePodLab(t *testing.T, body string) string {
	t.Helper()
	dir := writeImageLab(t, `image = "docker-archive:images/good.tar"`)
	lab := `network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
pod_network "cluster" { cidr = "10.244.0.0/16" }
pod "p" {
  host    = host.h
  network = pod_network.cluster
` + body + `
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(lab), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPodImageContainers(t *testing.T) {
	dir := writePodLab(t, `  container "web" {
    image        = "docker-archive:images/good.tar"
    command      = ["httpd"]
    private_dirs = ["/www"]
    file "/www/index.html" { content = "hi from ${host.h.name}" }
  }
  container "sidecar" {
    image      = "oci-archive:images/good-oci.tar"
    entrypoint = ["/bin/sh"]
    env        = { MODE = "b" }
  }
  container "shell" {
    command = ["sleep", "1"]
  }`)
	lab, _, diags := Load(dir, Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	cs := lab.Pods()[0].Containers
	if len(cs) != 3 {
		t.Fatalf("%d containers", len(cs))
	}
	web, side, sh := cs[0], cs[1], cs[2]
	if web.Image == nil || strings.Join(web.Command, " ") != "/bin/app httpd" || strings.Join(web.PrivateDirs, " ") != "/www" ||
		len(web.Files) != 1 || string(web.Files[0].Content) != "hi from h" {
		t.Errorf("web: %+v", web)
	}
	if side.Image == nil || strings.Join(side.Image.Args, " ") != "/bin/sh" || strings.Join(side.Image.Env, " ") != "PATH=/bin MODE=b" {
		t.Errorf("sidecar: %+v", side)
	}
	if sh.Image != nil || strings.Join(sh.Command, " ") != "sleep 1" {
		t.Errorf("shell: %+v", sh)
	}
}

// TestPodImageContainerErrors: each mistake in a pod's container block is
// reported at its argument or block.
func TestPodImageContainerErrors(t *testing.T) {
	for name, c := range map[string]struct {
		body, want string
		line, col  int
	}{
		"no command, no image": {"  container \"a\" {\n    env = {}\n  }", "Missing required argument", 7, 3},
		"image-only argument":  {"  container \"a\" {\n    command    = [\"x\"]\n    entrypoint = [\"y\"]\n  }", "only a container with image", 9, 18},
		"file without image":   {"  container \"a\" {\n    command = [\"x\"]\n    file \"/www/x\" { content = \"\" }\n  }", "File without an image", 9, 5},
		"file outside private dirs": {"  container \"a\" {\n    image = \"docker-archive:images/good.tar\"\n    file \"/etc/x\" { content = \"\" }\n  }",
			"File outside the private dirs", 9, 10},
		"unknown file argument": {"  container \"a\" {\n    image = \"docker-archive:images/good.tar\"\n    private_dirs = [\"/www\"]\n    file \"/www/x\" {\n      content = \"\"\n      owner = \"root\"\n    }\n  }",
			"Unsupported argument", 12, 7},
		"truncated image":  {"  container \"a\" {\n    image = \"docker-archive:images/truncated.tar\"\n  }", "cannot be read as a docker-archive", 8, 13},
		"reserved private": {"  container \"a\" {\n    image = \"docker-archive:images/good.tar\"\n    private_dirs = [\"/proc/x\"]\n  }", "Invalid private_dirs", 9, 21},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, diags := Load(writePodLab(t, c.body), Options{})
			for _, d := range diags {
				if d.Severity == hcl.DiagError && d.Subject != nil && d.Subject.Start.Line == c.line && d.Subject.Start.Column == c.col &&
					strings.Contains(d.Summary+": "+d.Detail, c.want) {
					return
				}
			}
			t.Errorf("want %q @ %d:%d, got %v", c.want, c.line, c.col, diags)
		})
	}
}

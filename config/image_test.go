package config

import (
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/labnet-dev/labnet/image"
)

// The config tests (FuzzLoad's mutations of docker:// seeds among them)
// reach no registry but on loopback: any other is sent to a proxy that
// is not there, so it fails at once, with no lookup of its name.
func init() {
	os.Setenv("HTTPS_PROXY", "http://127.0.0.1:9")
	os.Setenv("HTTP_PROXY", "http://127.0.0.1:9")
	os.Setenv("NO_PROXY", "")
}

// writeImageLab writes a lab whose container "c" has the given arguments,
// with a good docker-archive at images/good.tar and an oci-archive at
// images/good-oci.tar, a truncated one and a corrupt one.
func writeImageLab(t *testing.T, args string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lab")
	os.MkdirAll(filepath.Join(dir, "images"), 0o755)
	files := map[string]image.File{"/bin/app": {Mode: 0o755, Content: []byte("#!/bin/sh\n")}}
	cfg := image.Config{Entrypoint: []string{"/bin/app"}, Cmd: []string{"serve"}, Env: []string{"PATH=/bin", "MODE=a"}, WorkingDir: "/srv", User: "1000:100"}
	good := filepath.Join(dir, "images", "good.tar")
	if err := image.Build(files, cfg, image.DockerArchive, good); err != nil {
		t.Fatal(err)
	}
	if err := image.Build(files, cfg, image.OCIArchive, filepath.Join(dir, "images", "good-oci.tar")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(good)
	os.WriteFile(filepath.Join(dir, "images", "truncated.tar"), b[:len(b)/3], 0o644)
	os.WriteFile(filepath.Join(dir, "images", "corrupt.tar"), []byte(strings.Repeat("junk", 3000)), 0o644)
	named := image.Config{Cmd: []string{"x"}, User: "www-data"}
	if err := image.Build(files, named, image.DockerArchive, filepath.Join(dir, "images", "named.tar")); err != nil {
		t.Fatal(err)
	}
	// An OCI layout, one whose layer was changed, one for another
	// architecture.
	if err := image.Build(files, cfg, image.OCI, filepath.Join(dir, "images", "layout")); err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(dir, "images", "tampered")
	if err := image.Build(files, cfg, image.OCI, tampered); err != nil {
		t.Fatal(err)
	}
	img, _ := image.BuildImage(files, cfg)
	m, _ := img.Manifest()
	layer := filepath.Join(tampered, "blobs", "sha256", m.Layers[0].Digest.Hex)
	lb, _ := os.ReadFile(layer)
	lb[len(lb)/2] ^= 1
	os.WriteFile(layer, lb, 0o644)
	alien := cfg
	alien.Architecture = "s390x"
	if err := image.Build(files, alien, image.OCI, filepath.Join(dir, "images", "alien")); err != nil {
		t.Fatal(err)
	}
	lab := `network "lan" { cidr = "192.168.50.0/24" }
host "h" { network = network.lan }
bridge "b" {
  host = host.h
  cidr = "172.17.0.0/16"
}
container "c" {
  host   = host.h
  bridge = bridge.b
` + args + `
}
`
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(lab), 0o644)
	return dir
}

func TestContainerImageErrors(t *testing.T) {
	for name, c := range map[string]struct{ args, want string }{
		"truncated":    {`image = "docker-archive:images/truncated.tar"`, "cannot be read as a docker-archive"},
		"corrupt":      {`image = "docker-archive:images/corrupt.tar"`, "cannot be read as a docker-archive"},
		"corrupt oci":  {`image = "oci-archive:images/corrupt.tar"`, "cannot be read as an oci-archive"},
		"wrong format": {`image = "oci-archive:images/good.tar"`, "cannot be read as an oci-archive"},
		"missing dir":  {`image = "oci:images/none"`, `The image "oci:images/none" of container.c cannot be read as an OCI layout`},
		"missing tag":  {`image = "oci:images/layout:v2"`, `no image tagged "v2" (its tags: "latest")`},
		"not a layout": {`image = "oci:images"`, "is not an OCI layout"},
		"tampered":     {`image = "oci:images/tampered"`, "does not match its digest"},
		"other arch":   {`image = "oci:images/alien"`, "the image is for linux/s390x"},
		"no registry":  {`image = "docker://` + closedPort(t) + `/lab/bb:v1"`, `of container.c cannot be pulled: cannot reach registry 127.0.0.1:`},
		"proxy down":   {`image = "docker://registry.invalid/lab/bb:v1"`, `of container.c cannot be pulled: cannot reach registry registry.invalid`},
		"named user":   {`image = "docker-archive:images/named.tar"`, `user "www-data" is not in the image's /etc/passwd`},
		"bad env":      {"image = \"docker-archive:images/good.tar\"\nenv = { LABNET_OWNER = \"x\" }", "labnet's mark"},
		"bad cap":      {"image = \"docker-archive:images/good.tar\"\ncap_add = [\"net admin\"]", "not a capability name"},
		"bad workdir":  {"image = \"docker-archive:images/good.tar\"\nworkdir = \"srv\"", "Invalid workdir"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := writeImageLab(t, c.args)
			_, _, diags := Load(dir, Options{})
			if !diags.HasErrors() || !strings.Contains(diags.Error(), c.want) {
				t.Fatalf("diagnostics %v, want %q", diags, c.want)
			}
			for _, d := range diags {
				if d.Subject == nil || d.Subject.Start.Line < 10 {
					t.Errorf("diagnostic %q is not at the argument: %v", d.Summary, d.Subject)
				}
			}
		})
	}
}

func TestContainerImage(t *testing.T) {
	for _, c := range []struct {
		args string
		want ContainerImage
	}{
		{`image = "docker-archive:images/good.tar"`, ContainerImage{Args: []string{"/bin/app", "serve"}, Env: []string{"PATH=/bin", "MODE=a"}, Cwd: "/srv", UID: 1000, GID: 100}},
		{`image = "oci-archive:images/good-oci.tar"`, ContainerImage{Args: []string{"/bin/app", "serve"}, Env: []string{"PATH=/bin", "MODE=a"}, Cwd: "/srv", UID: 1000, GID: 100}},
		{`image = "oci:images/layout"`, ContainerImage{Args: []string{"/bin/app", "serve"}, Env: []string{"PATH=/bin", "MODE=a"}, Cwd: "/srv", UID: 1000, GID: 100}},
		{`image = "oci:images/layout:latest"`, ContainerImage{Args: []string{"/bin/app", "serve"}, Env: []string{"PATH=/bin", "MODE=a"}, Cwd: "/srv", UID: 1000, GID: 100}},
		{"image = \"docker-archive:images/good.tar\"\ncommand = [\"check\"]\nenv = { MODE = \"b\", Z = \"1\" }\nworkdir = \"/tmp\"\ncap_add = [\"net_admin\", \"CAP_NET_ADMIN\"]",
			ContainerImage{Args: []string{"/bin/app", "check"}, Env: []string{"PATH=/bin", "MODE=b", "Z=1"}, Cwd: "/tmp", UID: 1000, GID: 100, CapAdd: []string{"CAP_NET_ADMIN"}}},
		{"image = \"docker-archive:images/good.tar\"\nentrypoint = [\"/bin/sh\", \"-c\"]\nprivileged = true",
			ContainerImage{Args: []string{"/bin/sh", "-c"}, Env: []string{"PATH=/bin", "MODE=a"}, Cwd: "/srv", UID: 1000, GID: 100, Privileged: true}},
	} {
		dir := writeImageLab(t, c.args)
		lab, _, diags := Load(dir, Options{})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", c.args, diags)
		}
		got := *lab.Containers()[0].Image
		if !strings.HasPrefix(got.Digest, "sha256:") || !strings.HasPrefix(got.Archive, dir) {
			t.Errorf("%s: digest %q archive %q", c.args, got.Digest, got.Archive)
		}
		// Apply opens the image again where Archive says, and finds the
		// digest the plan resolved.
		im, err := image.Open(got.Transport, got.Archive)
		if err != nil || im.Digest != got.Digest {
			t.Errorf("%s: image.Open(%q, %q): %v", c.args, got.Transport, got.Archive, err)
		} else {
			im.Close()
		}
		got.Digest, got.Archive, got.Ref, got.Transport = "", "", "", ""
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.args, got, c.want)
		}
	}
}

// closedPort is a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

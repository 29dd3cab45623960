package acceptance

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/image"
	"github.com/labnet-dev/labnet/internal/testutil"
)

// registryContainers are the containers of testdata/registry, from an
// image at REGISTRY (a registry the test starts: the lab cannot be
// loaded without one).
const registryContainers = `container "web" {
  host         = host.node
  bridge       = bridge.br
  image        = "docker://REGISTRY/lab/busybox:stable"
  command      = ["httpd", "-f", "-p", "80", "-h", "/www"]
  private_dirs = ["/www"]
  file "/www/index.html" { content = "hello from a registry\n" }
}
container "client" {
  host    = host.node
  bridge  = bridge.br
  image   = "docker://REGISTRY/lab/busybox:stable"
  command = ["sleep", "1000000"]
}
check "http" {
  from          = container.client
  exec          = "busybox wget -qO- http://${container.web.address}/"
  expect_output = "hello from a registry"
}
container "local" {
  host    = host.node
  bridge  = bridge.br
  image   = "oci:images/busybox:v1"
  command = ["sleep", "1000000"]
}
check "local-to-web" {
  from          = container.local
  exec          = "busybox wget -qO- http://${container.web.address}/"
  expect_output = "hello from a registry"
}
`

// TestRegistryImages runs containers from a real registry (Debian's
// docker-registry on loopback) and one from an OCI layout directory:
// labnet resolves the tag, pulls the image into its cache and ships it to
// the host, where traffic proves the containers run. The tag is then pushed to another image: plan shows the
// replacement and why, apply makes it (the new image's file is seen
// inside), and a second apply moves no image bytes, neither from the
// registry nor to the host. Images the registry does not serve, serves
// wrong, or that cannot be reached fail before any host is changed,
// naming the container and the registry.
func TestRegistryImages(t *testing.T) {
	testutil.NeedRoot(t)
	testutil.NeedTools(t, "runc", "busybox", "docker-registry")
	// Started before the lab: the cleanup's destroy reads the lab, and
	// with it the registry, before the registry is stopped.
	reg := testutil.StartRegistry(t)
	t.Setenv(image.CacheEnv, t.TempDir())
	l := newLab(t, "testdata/registry")
	hclPath := filepath.Join(l.dir, "main.hcl")
	good := mustRead(t, hclPath) + strings.ReplaceAll(registryContainers, "REGISTRY", reg.Addr)
	if err := os.WriteFile(hclPath, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}

	// Two busybox images that differ by one file (and from any other
	// test's, by the lab's name): the registry's tag names one, then the other.
	bb, _ := exec.LookPath("busybox")
	files, err := image.BusyboxFiles(bb, func() ([]byte, error) { return exec.Command(bb, "--list").Output() })
	if err != nil {
		t.Fatal(err)
	}
	build := func(version string) (v1.Image, string) {
		files["/etc/version"] = image.File{Mode: 0o644, Content: []byte(l.name + " " + version + "\n")}
		img, err := image.BuildImage(files, image.BusyboxConfig)
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		// The host keeps unpacked images (destroy leaves them, a cache):
		// this test's go when it ends, after the lab's destroy.
		t.Cleanup(func() { os.RemoveAll(hostnet.ImageDir(d.String())) })
		return img, d.String()
	}
	tag, err := name.ParseReference(reg.Addr + "/lab/busybox:stable")
	if err != nil {
		t.Fatal(err)
	}
	// container.local's image: an OCI layout directory in the lab.
	local, digestLocal := build("local")
	p, err := layout.Write(filepath.Join(l.dir, "images", "busybox"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(local, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "v1"})); err != nil {
		t.Fatal(err)
	}
	first, digest1 := build("one")
	if err := remote.Write(tag, first); err != nil {
		t.Fatal(err)
	}
	m, _ := first.Manifest()
	layerSize := m.Layers[0].Size

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
		t.Logf("the apply sent %d bytes to host.node (an image's layer is %d)", s.Sent["host.node"], layerSize)
		return s.Sent["host.node"]
	}
	t.Setenv("LABNET_STATS", stats)

	l.must(0, "apply", "-auto-approve")
	if s := sent(); s < layerSize/2 {
		t.Errorf("the first apply sent %d bytes; the image's layer is %d", s, layerSize)
	}
	l.must(0, "test")
	host := func(script string) string { return l.must(0, "exec", "host.node", "--", "sh", "-c", script) }
	runs := func(c, digest string) {
		t.Helper()
		out := host("runc state labnet." + l.name + "." + c)
		if !strings.Contains(out, `"status": "running"`) || !strings.Contains(out, digest) {
			t.Errorf("%s does not run %s:\n%s", c, digest, out)
		}
	}
	runs("web", digest1)
	runs("client", digest1)
	if out := l.must(0, "exec", "container.client", "--", "cat", "/etc/version"); out != l.name+" one\n" {
		t.Errorf("the client's /etc/version: %q", out)
	}
	runs("local", digestLocal)
	if out := l.must(0, "exec", "container.local", "--", "cat", "/etc/version"); out != l.name+" local\n" {
		t.Errorf("the local container's /etc/version: %q", out)
	}
	pulls := reg.BlobGets()
	if pulls != 2 {
		t.Errorf("labnet pulled %d blobs, want 2 (config and layer, once for both containers)", pulls)
	}

	// The tag now names another image: a replacement, with its reason.
	second, digest2 := build("two")
	if err := remote.Write(tag, second); err != nil {
		t.Fatal(err)
	}
	out, _, code := l.run("plan", "-detailed-exitcode")
	if code != 2 {
		t.Fatalf("plan after the push: exit %d, want 2", code)
	}
	for _, c := range []string{"web", "client"} {
		for _, want := range []string{
			"# container." + c + " will be replaced",
			"# (the image docker://" + reg.Addr + "/lab/busybox:stable is " + digest2 + " now, was " + digest1 + ")",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("the plan lacks %q:\n%s", want, out)
			}
		}
	}
	if !regexp.MustCompile(`image_digest += "` + digest1 + `" -> "` + digest2 + `" # forces replacement`).MatchString(out) {
		t.Errorf("the plan does not show the digest forcing the replacement:\n%s", out)
	}
	if add, change, destroy := planCounts(t, out); add != 2 || change != 0 || destroy != 2 {
		t.Errorf("plan: %d to add, %d to change, %d to destroy; want 2, 0, 2", add, change, destroy)
	}
	l.must(0, "apply", "-auto-approve")
	if s := sent(); s < layerSize/2 {
		t.Errorf("the replacing apply sent %d bytes; the new image's layer is %d", s, layerSize)
	}
	runs("web", digest2)
	runs("client", digest2)
	if out := l.must(0, "exec", "container.client", "--", "cat", "/etc/version"); out != l.name+" two\n" {
		t.Errorf("after the replacement the client's /etc/version is %q", out)
	}
	l.must(0, "test")
	pulls = reg.BlobGets()

	// A second apply: no changes, no image bytes from the registry or to
	// the host.
	if out := l.must(0, "apply", "-auto-approve"); !strings.Contains(out, "Resources: 0 added, 0 changed, 0 destroyed") {
		t.Errorf("the second apply:\n%s", out)
	}
	if s := sent(); s >= layerSize/4 {
		t.Errorf("the second apply sent %d bytes (the image's layer is %d)", s, layerSize)
	}
	if n := reg.BlobGets(); n != pulls {
		t.Errorf("the second apply pulled %d blobs", n-pulls)
	}

	// Images that cannot be had: each apply stops at the lab's loading,
	// naming the container and the registry, and the host is as it was.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusing := closed.Addr().String()
	closed.Close()
	unknown := "sha256:" + strings.Repeat("ab", 32)
	for _, c := range []struct{ image, want string }{
		{reg.Addr + "/lab/busybox@" + unknown, "registry " + reg.Addr + " has no lab/busybox@" + unknown},
		{reg.Addr + "/lab/busybox:gone", "registry " + reg.Addr + " has no lab/busybox:gone"},
		{refusing + "/lab/busybox:stable", "cannot reach registry " + refusing},
	} {
		bad := strings.Replace(good, reg.Addr+"/lab/busybox:stable", c.image, 1)
		if err := os.WriteFile(hclPath, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, errOut, code := l.run("apply", "-auto-approve")
		if err := os.WriteFile(hclPath, []byte(good), 0o644); err != nil {
			t.Fatal(err)
		}
		if code != 1 || !strings.Contains(errOut, "main.hcl:16:") || !strings.Contains(errOut, "of container.web cannot be pulled") || !strings.Contains(errOut, c.want) {
			t.Errorf("apply with image %s: exit %d, want 1 and an error at main.hcl:16 naming container.web and %q:\n%s", c.image, code, c.want, errOut)
		}
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("apply with image %s took %s", c.image, d)
		}
		runs("web", digest2)
	}
	// A layer the registry serves wrong (its stored blob changed), with
	// labnet's cache emptied: refused at loading as well.
	if err := remote.Write(tag, first); err != nil {
		t.Fatal(err)
	}
	blob := reg.Blob(m.Layers[0].Digest.String())
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x20
	if err := os.WriteFile(blob, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(image.CacheEnv, t.TempDir())
	_, errOut, code := l.run("plan")
	if code != 1 || !strings.Contains(errOut, "of container.web cannot be pulled") || !strings.Contains(errOut, m.Layers[0].Digest.String()) {
		t.Errorf("plan with a layer that does not match its digest: exit %d:\n%s", code, errOut)
	}
	// Every command reads the lab, exec too: the tag names a good image
	// again, and the host still runs it.
	if err := remote.Write(tag, second); err != nil {
		t.Fatal(err)
	}
	runs("web", digest2)

	// With the registry away, what makes nothing from images still works
	// (test, exec, a full destroy); plan says why it cannot.
	away := strings.Replace(good, reg.Addr+"/lab/busybox:stable", refusing+"/lab/busybox:stable", 1)
	if err := os.WriteFile(hclPath, []byte(away), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := l.run("plan"); code != 1 || !strings.Contains(errOut, "cannot reach registry "+refusing) {
		t.Errorf("plan with the registry away: exit %d, want 1 naming it:\n%s", code, errOut)
	}
	l.must(0, "test")
	if out := l.must(0, "exec", "container.web", "--", "cat", "/etc/version"); out != l.name+" two\n" {
		t.Errorf("exec with the registry away: %q", out)
	}
	if out := l.must(0, "destroy", "-auto-approve"); !strings.Contains(out, "destroyed") {
		t.Errorf("destroy with the registry away:\n%s", out)
	}
}

package image

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// otherArch is an architecture that is not Platform's.
func otherArch() string {
	if Platform.Architecture == "arm64" {
		return "amd64"
	}
	return "arm64"
}

func mustBuild(t *testing.T, cfg Config) v1.Image {
	t.Helper()
	img, err := BuildImage(testFiles, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func digestOf(t *testing.T, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// TestOpenLayout opens OCI layout directories: the only image, by tag,
// by index position, the image for this platform of an index, and again
// by the location it gave; and refuses what cannot be had, naming why.
func TestOpenLayout(t *testing.T) {
	dir := t.TempDir()
	one := filepath.Join(dir, "one")
	if err := Build(testFiles, testConfig, OCI, one); err != nil {
		t.Fatal(err)
	}
	want := mustBuild(t, testConfig)

	// Two images, tagged, and an index of two platforms (tagged "multi").
	two := filepath.Join(dir, "two")
	p, err := layout.Write(two, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	cmd2 := testConfig
	cmd2.Cmd = []string{"y"}
	second := mustBuild(t, cmd2)
	foreign := testConfig
	foreign.Architecture = otherArch()
	alien := mustBuild(t, foreign)
	multi := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: alien, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: otherArch()}}},
		mutate.IndexAddendum{Add: want, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: Platform.Architecture}}})
	for _, add := range []struct {
		img v1.Image
		tag string
	}{{want, "v1"}, {second, "v2"}, {alien, "arm"}} {
		if err := p.AppendImage(add.img, layout.WithAnnotations(map[string]string{refNameAnnotation: add.tag})); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.AppendIndex(multi, layout.WithAnnotations(map[string]string{refNameAnnotation: "multi"})); err != nil {
		t.Fatal(err)
	}
	onlyOther := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: alien, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: otherArch()}}})
	if err := p.AppendIndex(onlyOther, layout.WithAnnotations(map[string]string{refNameAnnotation: "elsewhere"})); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct{ ref, digest string }{
		{"oci:" + one, digestOf(t, want)},
		{"oci:" + one + ":latest", digestOf(t, want)},
		{"oci:" + one + ":@0", digestOf(t, want)},
		{"oci:" + two + ":v2", digestOf(t, second)},
		{"oci:" + two + ":@1", digestOf(t, second)},
		{"oci:" + two + ":multi", digestOf(t, want)},
		{"oci:one:v1" /* relative to dir */, ""},
	} {
		r, err := ParseRef(c.ref)
		if err != nil {
			t.Fatal(err)
		}
		im, err := OpenRef(r, dir)
		if c.digest == "" {
			if err == nil || !strings.Contains(err.Error(), `no image tagged "v1" (its tags: "latest")`) {
				t.Errorf("%s: %v", c.ref, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.ref, err)
			continue
		}
		if im.Digest != c.digest || !strings.HasSuffix(im.Location, "@"+c.digest) {
			t.Errorf("%s: digest %s location %s, want %s", c.ref, im.Digest, im.Location, c.digest)
		}
		again, err := Open(OCI, im.Location)
		if err != nil || again.Digest != c.digest {
			t.Errorf("%s: opened again at %s: %v", c.ref, im.Location, err)
		}
	}
	for ref, wantErr := range map[string]string{
		"oci:" + two:                  "holds 5 images; name one as PATH:TAG",
		"oci:" + two + ":v3":          `no image tagged "v3" (its tags: "v1", "v2", "arm", "multi", "elsewhere")`,
		"oci:" + two + ":@9":          "has 5 entries, no @9",
		"oci:" + two + ":arm":         "the image is for linux/" + otherArch() + "; labnet runs linux/" + Platform.Architecture,
		"oci:" + two + ":elsewhere":   "has no image for linux/" + Platform.Architecture + " (it has: linux/" + otherArch() + ")",
		"oci:" + dir + "/none":        "no such file or directory",
		"oci:" + dir:                  "is not an OCI layout: it has no oci-layout file",
		"oci:" + one + "/index.json":  "is not a directory",
		"oci-archive:" + one + ":foo": "reading the archive",
	} {
		r, err := ParseRef(ref)
		if err != nil {
			t.Fatal(err)
		}
		if im, err := OpenRef(r, dir); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: %v, wants %q", ref, err, wantErr)
			if err == nil {
				im.Close()
			}
		}
	}
	if _, err := OpenRef(Ref{Transport: OCI, Path: filepath.Join(dir, "none")}, dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing layout: %v", err)
	}
}

// TestLayoutTampered: a layout whose blob does not hold what its digest
// says is refused when it is opened (before anything is shipped), for a
// layer, the config and the manifest alike.
func TestLayoutTampered(t *testing.T) {
	img := mustBuild(t, testConfig)
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	for what, h := range map[string]v1.Hash{"layer": m.Layers[0].Digest, "config": m.Config.Digest, "manifest": d} {
		t.Run(what, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "bb")
			if err := Build(testFiles, testConfig, OCI, dir); err != nil {
				t.Fatal(err)
			}
			blob := filepath.Join(dir, "blobs", "sha256", h.Hex)
			b, err := os.ReadFile(blob)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0x20 // same size, other content
			if err := os.WriteFile(blob, b, 0o644); err != nil {
				t.Fatal(err)
			}
			im, err := OpenRef(Ref{Transport: OCI, Path: dir}, "")
			if err == nil || !strings.Contains(err.Error(), "does not match its digest") {
				t.Fatalf("opened a tampered %s: %v", what, err)
			}
			_ = im
			// A truncated blob is refused as well.
			os.WriteFile(blob, b[:len(b)/2], 0o644)
			if _, err := OpenRef(Ref{Transport: OCI, Path: dir}, ""); err == nil {
				t.Fatalf("opened a truncated %s", what)
			}
		})
	}
}

// TestBuildPlatform: images are built for Platform unless told otherwise,
// and one for another architecture is refused from an archive too.
func TestBuildPlatform(t *testing.T) {
	dir := t.TempDir()
	foreign := testConfig
	foreign.Architecture = otherArch()
	for _, tr := range []string{DockerArchive, OCIArchive} {
		p := filepath.Join(dir, tr+".tar")
		if err := Build(testFiles, testConfig, tr, p); err != nil {
			t.Fatal(err)
		}
		im, err := Open(tr, p)
		if err != nil {
			t.Fatal(err)
		}
		if im.Config.Architecture != Platform.Architecture {
			t.Errorf("%s: built for %q", tr, im.Config.Architecture)
		}
		im.Close()
		if err := Build(testFiles, foreign, tr, p); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(tr, p); err == nil || !strings.Contains(err.Error(), "the image is for linux/"+otherArch()) {
			t.Errorf("%s: another architecture: %v", tr, err)
		}
	}
}

package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/labnet-dev/labnet/internal/testutil"
)

func push(t *testing.T, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
}

func openDockerRef(s string) (*Image, error) {
	r, err := ParseRef("docker://" + s)
	if err != nil {
		return nil, err
	}
	return OpenRef(r, "")
}

// TestRegistryPull pulls from a real registry on loopback: a tag is
// resolved to its digest and the image is cached by digest, so opening it
// again by its location needs no registry; a tag moved to another image
// gives the other digest; an index gives this platform's image.
func TestRegistryPull(t *testing.T) {
	reg := testutil.StartRegistry(t)
	t.Setenv(CacheEnv, t.TempDir())
	first := mustBuild(t, testConfig)
	push(t, reg.Addr+"/lab/bb:v1", first)

	im, err := openDockerRef(reg.Addr + "/lab/bb:v1")
	if err != nil {
		t.Fatal(err)
	}
	if im.Digest != digestOf(t, first) || im.Location != reg.Addr+"/lab/bb@"+im.Digest {
		t.Errorf("digest %s location %s, pushed %s", im.Digest, im.Location, digestOf(t, first))
	}
	if c := im.Config; c.WorkingDir != "/var/www" || c.Cmd[0] != "x" {
		t.Errorf("config %+v", c)
	}
	pulled := reg.BlobGets()
	if pulled != 2 {
		t.Errorf("the first pull got %d blobs, want 2 (config and layer):\n%s", pulled, reg.Log())
	}
	// Resolving the tag again asks the registry for the manifest only.
	if _, err := openDockerRef(reg.Addr + "/lab/bb:v1"); err != nil {
		t.Fatal(err)
	}
	if n := reg.BlobGets(); n != pulled {
		t.Errorf("a cached image was pulled again: %d blob GETs, was %d", n, pulled)
	}
	// The tag names another image: another digest.
	cfg2 := testConfig
	cfg2.Cmd = []string{"second"}
	second := mustBuild(t, cfg2)
	push(t, reg.Addr+"/lab/bb:v1", second)
	im2, err := openDockerRef(reg.Addr + "/lab/bb:v1")
	if err != nil {
		t.Fatal(err)
	}
	if im2.Digest != digestOf(t, second) || im2.Config.Cmd[0] != "second" {
		t.Errorf("after the push the tag gives %s %v, want %s", im2.Digest, im2.Config.Cmd, digestOf(t, second))
	}
	// Pinned by digest: the first image still, and from the cache alone.
	pinned := im.Location
	if _, err := openDockerRef(pinned); err != nil {
		t.Fatal(err)
	}
	gets := strings.Count(reg.Log(), "GET /v2/")
	again, err := Open(Docker, pinned)
	if err != nil || again.Digest != im.Digest {
		t.Fatalf("open %s: %v", pinned, err)
	}
	if n := strings.Count(reg.Log(), "GET /v2/"); n != gets {
		t.Errorf("opening a cached image by digest asked the registry (%d GETs, was %d)", n, gets)
	}
	// A cached layer damaged since it was pulled: apply's Open finds it,
	// and pulls it again.
	m, _ := first.Manifest()
	cached := filepath.Join(os.Getenv(CacheEnv), "blobs", "sha256", m.Layers[0].Digest.Hex)
	cb, err := os.ReadFile(cached)
	if err != nil {
		t.Fatal(err)
	}
	cb[len(cb)/2] ^= 1
	os.WriteFile(cached, cb, 0o644)
	pulled = reg.BlobGets()
	again, err = Open(Docker, pinned)
	if err != nil || again.Digest != im.Digest {
		t.Fatalf("open %s with a damaged cache: %v", pinned, err)
	}
	if n := reg.BlobGets(); n != pulled+1 {
		t.Errorf("the damaged layer was not pulled again (%d blob GETs, was %d)", n, pulled)
	}
	var b bytes.Buffer
	if err := again.Rootfs(&b); err != nil {
		t.Fatal(err)
	}
	if !tarHas(t, &b, "bin/hello") {
		t.Errorf("the pulled rootfs lacks bin/hello")
	}
	// An index of two platforms: this platform's image.
	foreign := testConfig
	foreign.Architecture = otherArch()
	alien := mustBuild(t, foreign)
	multi := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: alien, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: otherArch()}}},
		mutate.IndexAddendum{Add: first, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: Platform.Architecture}}})
	r, _ := name.ParseReference(reg.Addr + "/lab/multi:1")
	if err := remote.WriteIndex(r, multi); err != nil {
		t.Fatal(err)
	}
	if im, err := openDockerRef(reg.Addr + "/lab/multi:1"); err != nil || im.Digest != digestOf(t, first) {
		t.Errorf("the index gave %v, %v; want %s", im, err, digestOf(t, first))
	}
}

func tarHas(t *testing.T, r io.Reader, name string) bool {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == name {
			return true
		}
	}
}

// TestRegistryRefuses: what a registry does not serve, serves wrong, or
// serves for another platform is an error naming the registry and the
// image, and leaves nothing in the cache.
func TestRegistryRefuses(t *testing.T) {
	reg := testutil.StartRegistry(t)
	cache := t.TempDir()
	t.Setenv(CacheEnv, cache)
	img := mustBuild(t, testConfig)
	push(t, reg.Addr+"/lab/bb:v1", img)
	foreign := testConfig
	foreign.Architecture = otherArch()
	push(t, reg.Addr+"/lab/alien:v1", mustBuild(t, foreign))

	for ref, want := range map[string]string{
		reg.Addr + "/lab/bb:v9":                "registry " + reg.Addr + " has no lab/bb:v9",
		reg.Addr + "/lab/none:v1":              "registry " + reg.Addr + " has no lab/none:v1",
		reg.Addr + "/lab/bb@sha256:" + someHex: "registry " + reg.Addr + " has no lab/bb@sha256:" + someHex,
		reg.Addr + "/lab/alien:v1":             "the image is for linux/" + otherArch(),
	} {
		if _, err := openDockerRef(ref); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, wants %q", ref, err, want)
		}
	}
	// The registry serves a layer whose content is not its digest's.
	m, _ := img.Manifest()
	blob := reg.Blob(m.Layers[0].Digest.String())
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x20
	if err := os.WriteFile(blob, b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(cache)
	_, err = openDockerRef(reg.Addr + "/lab/bb:v1")
	if err == nil || !strings.Contains(err.Error(), reg.Addr) || !strings.Contains(err.Error(), m.Layers[0].Digest.String()) {
		t.Fatalf("a layer that does not match its digest: %v", err)
	}
	t.Logf("tampered layer: %v", err)
	if _, err := os.Stat(filepath.Join(cache, "blobs", "sha256", m.Layers[0].Digest.Hex)); err == nil {
		t.Errorf("the tampered layer is in the cache")
	}
	// ...nor is the manifest, so the digest is not taken as pulled.
	d, _ := img.Digest()
	if _, err := Open(Docker, reg.Addr+"/lab/bb@"+d.String()); err == nil {
		t.Errorf("opened an image whose layer did not match")
	}
}

// TestRegistryUnreachable: a registry that refuses connections, or
// accepts them and never answers, is named in an error within seconds.
func TestRegistryUnreachable(t *testing.T) {
	t.Setenv(CacheEnv, t.TempDir())
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials of the user's
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusing := closed.Addr().String()
	closed.Close()
	start := time.Now()
	_, err = openDockerRef(refusing + "/lab/bb:v1")
	if err == nil || !strings.Contains(err.Error(), "cannot reach registry "+refusing) {
		t.Errorf("a closed port: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a refused connection took %s", d)
	}

	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	start = time.Now()
	_, err = openDockerRef(hung.Addr().String() + "/lab/bb:v1")
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "registry "+hung.Addr().String()+" did not answer within "+Timeout.String()) {
		t.Errorf("a registry that never answers: %v", err)
	}
	if took > Timeout+3*time.Second {
		t.Errorf("a registry that never answers took %s", took)
	}
	t.Logf("hung registry: %v after %s", err, took.Round(time.Millisecond))
}

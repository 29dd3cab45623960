package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testFiles is a tiny image: a file, a symlink, a directory.
var testFiles = map[string]File{
	"/bin/hello":     {Mode: 0o755, Content: []byte("#!/bin/sh\necho hello\n")},
	"/bin/hi":        {Link: "hello"},
	"/etc/motd":      {Mode: 0o644, Content: []byte("welcome\n")},
	"/var/www/.keep": {Mode: 0o644},
}

var testConfig = Config{Entrypoint: []string{"/bin/hello"}, Cmd: []string{"x"}, Env: []string{"PATH=/bin"}, WorkingDir: "/var/www", User: "0:0"}

func TestOpenBothArchives(t *testing.T) {
	for _, tr := range []string{DockerArchive, OCIArchive} {
		t.Run(tr, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "img.tar")
			if err := Build(testFiles, testConfig, tr, p); err != nil {
				t.Fatal(err)
			}
			im, err := Open(tr, p)
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			if !strings.HasPrefix(im.Digest, "sha256:") || len(im.Digest) != 71 {
				t.Errorf("digest %q", im.Digest)
			}
			if c := im.Config; c.WorkingDir != "/var/www" || c.User != "0:0" || len(c.Entrypoint) != 1 || c.Cmd[0] != "x" || c.Env[0] != "PATH=/bin" {
				t.Errorf("config %+v", c)
			}
			var b bytes.Buffer
			if err := im.Rootfs(&b); err != nil {
				t.Fatal(err)
			}
			seen := map[string]string{}
			r := tar.NewReader(&b)
			for {
				h, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(r)
				seen[h.Name] = string(body) + h.Linkname
			}
			if seen["bin/hello"] != "#!/bin/sh\necho hello\n" || seen["bin/hi"] != "hello" || seen["etc/motd"] != "welcome\n" {
				t.Errorf("rootfs has %v", seen)
			}
			// The same files make the same image.
			p2 := filepath.Join(t.TempDir(), "again.tar")
			if err := Build(testFiles, testConfig, tr, p2); err != nil {
				t.Fatal(err)
			}
			im2, err := Open(tr, p2)
			if err != nil {
				t.Fatal(err)
			}
			defer im2.Close()
			if im2.Digest != im.Digest {
				t.Errorf("digest %s, then %s", im.Digest, im2.Digest)
			}
		})
	}
}

func TestOpenBroken(t *testing.T) {
	dir := t.TempDir()
	for _, tr := range []string{DockerArchive, OCIArchive} {
		p := filepath.Join(dir, tr+".tar")
		if err := Build(testFiles, testConfig, tr, p); err != nil {
			t.Fatal(err)
		}
		whole, _ := os.ReadFile(p)
		for name, b := range map[string][]byte{
			"truncated": whole[:len(whole)/2],
			"empty":     nil,
			"garbage":   bytes.Repeat([]byte("not a tar "), 200),
		} {
			bad := filepath.Join(dir, tr+"-"+name+".tar")
			os.WriteFile(bad, b, 0o644)
			if im, err := Open(tr, bad); err == nil {
				im.Close()
				t.Errorf("%s %s: opened", tr, name)
			}
		}
		if _, err := Open(tr, filepath.Join(dir, "missing.tar")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s missing: %v", tr, err)
		}
	}
}

func TestParseRef(t *testing.T) {
	for in, want := range map[string]string{
		"docker-archive:images/a.tar":             "",
		"docker-archive:images/a:b.tar":           "",
		"oci-archive:/abs/a.tar":                  "",
		"oci-archive:/abs/a.tar:v1":               "",
		"oci:images/bb":                           "",
		"oci:images/bb:v1.2":                      "",
		"oci:/abs/bb:@3":                          "",
		"docker://debian:12":                      "",
		"docker://127.0.0.1:5000/x/bb:v1":         "",
		"docker://r.example/bb@sha256:" + someHex: "",
		"docker://r.example/bb@sha256:12":         "is not a registry reference",
		"docker://Debian":                         "is not a registry reference",
		"docker://":                               "names no image",
		"docker:debian":                           "docker://NAME:TAG (with //)",
		"oci:images/bb:@x":                        "is not an index position",
		"ftp:a.tar":                               `unknown transport "ftp"`,
		"a.tar":                                   "is not TRANSPORT:PATH",
		"oci-archive:":                            "names no file",
		"oci::v1":                                 "names no file",
	} {
		r, err := ParseRef(in)
		switch {
		case want == "" && (err != nil || r.String() != in):
			t.Errorf("%q: %+v %v", in, r, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: error %v, wants %q", in, err, want)
		}
	}
	if r, _ := ParseRef("oci:images/bb:v1"); r.Path != "images/bb" || r.Select != "v1" {
		t.Errorf("oci:images/bb:v1 is %+v", r)
	}
}

const someHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

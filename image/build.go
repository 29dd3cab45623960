package image

import (
	"archive/tar"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// File is a file of an image that Build makes: a regular file (Content,
// Mode), or a symlink when Link is set.
type File struct {
	Mode    int64
	Content []byte
	Link    string
}

// BuildImage makes a one-layer Linux image holding files (by absolute
// path; their parent directories are made) with cfg, for
// cfg.Architecture (Platform's when empty). The layer's timestamps are
// fixed, so the same files make the same digest.
func BuildImage(files map[string]File, cfg Config) (v1.Image, error) {
	layerTar, err := layerOf(files)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil })
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = Platform.OS, cmp.Or(cfg.Architecture, Platform.Architecture)
	cf.Config = v1.Config{Entrypoint: cfg.Entrypoint, Cmd: cfg.Cmd, Env: cfg.Env, WorkingDir: cfg.WorkingDir, User: cfg.User}
	return mutate.ConfigFile(img, cf)
}

// Build writes the image BuildImage makes as a docker-archive or an
// oci-archive at out, or as an OCI layout directory (oci) out, where it
// is tagged "latest". The Makefile builds labs' images with it
// (hack/mkimage) from Debian packages, offline; tests build theirs.
func Build(files map[string]File, cfg Config, transport, out string) error {
	img, err := BuildImage(files, cfg)
	if err != nil {
		return err
	}
	switch transport {
	case DockerArchive:
		ref, err := name.ParseReference("labnet.local/image:latest")
		if err != nil {
			return err
		}
		return tarball.WriteToFile(out, ref, img)
	case OCI:
		p, err := layout.Write(out, empty.Index)
		if err != nil {
			return err
		}
		return p.AppendImage(img, layout.WithAnnotations(map[string]string{refNameAnnotation: "latest"}))
	case OCIArchive:
		dir, err := os.MkdirTemp("", "labnet-oci-build-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		p, err := layout.Write(dir, empty.Index)
		if err != nil {
			return err
		}
		if err := p.AppendImage(img); err != nil {
			return err
		}
		return tarDir(dir, out)
	}
	return fmt.Errorf("unknown transport %q", transport)
}

// layerOf is the layer's tar: files sorted, parents first, owned by root.
func layerOf(files map[string]File) ([]byte, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	dirs := map[string]bool{}
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if !filepath.IsAbs(p) || filepath.Clean(p) != p {
			return nil, fmt.Errorf("%q is not an absolute, clean path", p)
		}
		var parents []string
		for d := filepath.Dir(p); d != "/"; d = filepath.Dir(d) {
			parents = append([]string{d}, parents...)
		}
		for _, d := range parents {
			if !dirs[d] {
				dirs[d] = true
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d[1:] + "/", Mode: 0o755}); err != nil {
					return nil, err
				}
			}
		}
		f := files[p]
		if f.Link != "" {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: p[1:], Linkname: f.Link, Mode: 0o777}); err != nil {
				return nil, err
			}
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: p[1:], Mode: f.Mode, Size: int64(len(f.Content))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Content); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), tw.Close()
}

// tarDir writes the regular files under dir into a tar at out.
func tarDir(dir, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		content, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: rel, Mode: 0o644, Size: int64(len(content))}); err != nil {
			return err
		}
		_, err = tw.Write(content)
		return err
	})
	if cerr := tw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// BusyboxConfig is the config of the busybox image: a shell, PATH.
var BusyboxConfig = Config{Cmd: []string{"/bin/sh"}, Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, WorkingDir: "/"}

// BusyboxFiles are a busybox image's files: the binary at bb (static),
// a /bin symlink per applet (list prints them, one a line), /tmp, and
// /etc/passwd and /etc/group with root.
func BusyboxFiles(bb string, list func() ([]byte, error)) (map[string]File, error) {
	content, err := os.ReadFile(bb)
	if err != nil {
		return nil, err
	}
	applets, err := list()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", bb, err)
	}
	files := map[string]File{
		"/bin/busybox": {Mode: 0o755, Content: content},
		"/etc/passwd":  {Mode: 0o644, Content: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		"/etc/group":   {Mode: 0o644, Content: []byte("root:x:0:\nnogroup:x:65534:\n")},
		"/tmp/.keep":   {Mode: 0o644},
		"/root/.keep":  {Mode: 0o644},
	}
	for _, a := range strings.Fields(string(applets)) {
		if a != "busybox" && !strings.Contains(a, "/") {
			files["/bin/"+a] = File{Link: "busybox"}
		}
	}
	return files, nil
}

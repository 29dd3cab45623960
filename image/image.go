// Package image reads container images from archives on the machine
// labnet runs on: a docker-archive (`docker save`'s tarball) or an
// oci-archive (an OCI image layout in a tar). It gives an image's digest,
// the process its config describes, and its layers flattened into one tar
// (whiteouts applied), which apply ships to the hosts that run it.
//
// The archives are read with github.com/google/go-containerregistry: it
// knows both formats, computes digests the way registries do, and its
// mutate.Extract applies layers (whiteouts, opaque directories, hard
// links) as the spec says; labnet has no tar applier of its own.
package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The transports an image reference may name.
const (
	DockerArchive = "docker-archive"
	OCIArchive    = "oci-archive"
)

// Ref is an image reference as a lab writes it: TRANSPORT:PATH.
type Ref struct {
	Transport string
	Path      string // as written (relative to the lab directory, or absolute)
}

// ParseRef reads "docker-archive:PATH" or "oci-archive:PATH". A registry
// ("docker://...") is refused: this slice reads archives only.
func ParseRef(s string) (Ref, error) {
	if strings.HasPrefix(s, "docker://") {
		return Ref{}, fmt.Errorf("pulling from a registry (docker://) is not supported yet; save the image with `docker save` (docker-archive:PATH) or `skopeo copy ... oci-archive:PATH`")
	}
	t, p, ok := strings.Cut(s, ":")
	if !ok {
		return Ref{}, fmt.Errorf("%q is not TRANSPORT:PATH (docker-archive:PATH or oci-archive:PATH)", s)
	}
	switch t {
	case DockerArchive, OCIArchive:
	default:
		return Ref{}, fmt.Errorf("unknown transport %q; the transports are docker-archive and oci-archive", t)
	}
	if p == "" {
		return Ref{}, fmt.Errorf("%q names no file", s)
	}
	return Ref{Transport: t, Path: p}, nil
}

func (r Ref) String() string { return r.Transport + ":" + r.Path }

// Config is what an image's config says of the process it runs.
type Config struct {
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
	User       string
}

// Image is an image read from an archive.
type Image struct {
	Digest string // sha256:HEX of its manifest
	Config Config
	img    v1.Image
	tmp    string // an oci-archive's layout, unpacked
}

// Open reads the archive at path (transport says which format): its
// manifest, config and layer digests. A missing, truncated or corrupt
// archive is an error. Close it when done.
func Open(transport, path string) (*Image, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	im := &Image{}
	var err error
	switch transport {
	case DockerArchive:
		im.img, err = tarball.ImageFromPath(path, nil)
	case OCIArchive:
		im.img, im.tmp, err = ociArchive(path)
	default:
		return nil, fmt.Errorf("unknown transport %q", transport)
	}
	if err != nil {
		im.Close()
		return nil, err
	}
	if err := im.read(); err != nil {
		im.Close()
		return nil, err
	}
	return im, nil
}

func (im *Image) read() error {
	d, err := im.img.Digest()
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	cf, err := im.img.ConfigFile()
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if cf.OS != "" && cf.OS != "linux" {
		return fmt.Errorf("the image is for %s, not linux", cf.OS)
	}
	layers, err := im.img.Layers()
	if err != nil {
		return fmt.Errorf("layers: %w", err)
	}
	for i, l := range layers {
		if _, err := l.Digest(); err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
	}
	im.Digest = d.String()
	c := cf.Config
	im.Config = Config{Entrypoint: c.Entrypoint, Cmd: c.Cmd, Env: c.Env, WorkingDir: c.WorkingDir, User: c.User}
	return nil
}

// Close removes what Open unpacked.
func (im *Image) Close() {
	if im.tmp != "" {
		os.RemoveAll(im.tmp)
		im.tmp = ""
	}
}

// Rootfs writes the image's filesystem: its layers flattened into one tar
// by mutate.Extract (whiteouts applied). Reading a layer checks its digest
// where the format records one.
func (im *Image) Rootfs(w io.Writer) error {
	rc := mutate.Extract(im.img)
	defer rc.Close()
	_, err := io.Copy(w, rc)
	return err
}

// ociArchive unpacks an OCI layout's tar into a temporary directory (its
// blobs and index, regular files only) and opens its only image.
func ociArchive(path string) (v1.Image, string, error) {
	tmp, err := os.MkdirTemp("", "labnet-oci-")
	if err != nil {
		return nil, "", err
	}
	if err := untarLayout(path, tmp); err != nil {
		return nil, tmp, err
	}
	p, err := layout.FromPath(tmp)
	if err != nil {
		return nil, tmp, fmt.Errorf("not an OCI layout: %w", err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, tmp, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, tmp, err
	}
	if len(m.Manifests) != 1 {
		return nil, tmp, fmt.Errorf("the layout's index lists %d manifests, wants one image", len(m.Manifests))
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	return img, tmp, err
}

// untarLayout writes an OCI layout's files (oci-layout, index.json,
// blobs/ALG/HEX) from a tar; any other entry is refused.
func untarLayout(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the archive: %w", err)
		}
		name := filepath.Clean(strings.TrimPrefix(h.Name, "./"))
		switch h.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
		default:
			return fmt.Errorf("%s: an OCI layout holds regular files only", h.Name)
		}
		parts := strings.Split(name, "/")
		ok := name == "oci-layout" || name == "index.json" ||
			(len(parts) == 3 && parts[0] == "blobs" && !strings.HasPrefix(parts[1], ".") && !strings.HasPrefix(parts[2], "."))
		if !ok {
			return fmt.Errorf("%s is not a file of an OCI layout", h.Name)
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, tr)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
	}
}

// Package image reads container images on the machine labnet runs on:
// from a docker-archive (`docker save`'s tarball), an oci-archive (an OCI
// image layout in a tar), an OCI layout directory (oci:DIR), or a
// registry (docker://NAME:TAG, pulled into a cache here). It gives an
// image's digest, the process its config describes, and its layers
// flattened into one tar (whiteouts applied), which apply ships to the
// hosts that run it.
//
// The images are read with github.com/google/go-containerregistry: it
// knows the formats and the registry protocol, computes digests the way
// registries do, and its mutate.Extract applies layers (whiteouts, opaque
// directories, hard links) as the spec says; labnet has no tar applier
// of its own.
package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The transports an image reference may name, as skopeo names them.
const (
	DockerArchive = "docker-archive"
	OCIArchive    = "oci-archive"
	OCI           = "oci"
	Docker        = "docker"
)

// Ref is an image reference as a lab writes it: docker-archive:PATH,
// oci-archive:PATH[:SEL], oci:DIR[:SEL] or docker://NAME[:TAG|@DIGEST].
type Ref struct {
	Transport string
	// Path is the archive or layout as written (relative to the lab
	// directory, or absolute); for docker, the registry reference.
	Path string
	// Select picks an image of a layout (oci, oci-archive): a tag (its
	// ref.name annotation), "@N" the index's Nth entry; "" its only image.
	Select string
}

// ParseRef reads an image reference. As with skopeo, the first ":" after
// oci: or oci-archive: ends the path (a path with ":" cannot be named).
func ParseRef(s string) (Ref, error) {
	if rest, ok := strings.CutPrefix(s, "docker://"); ok {
		if _, err := parseDocker(rest); err != nil {
			return Ref{}, err
		}
		return Ref{Transport: Docker, Path: rest}, nil
	}
	t, p, ok := strings.Cut(s, ":")
	if !ok {
		return Ref{}, fmt.Errorf("%q is not TRANSPORT:PATH (docker-archive:PATH, oci-archive:PATH, oci:DIR or docker://NAME:TAG)", s)
	}
	r := Ref{Transport: t, Path: p}
	switch t {
	case DockerArchive:
	case OCIArchive, OCI:
		r.Path, r.Select, _ = strings.Cut(p, ":")
		if strings.HasPrefix(r.Select, "@") && !indexRe.MatchString(r.Select) {
			return Ref{}, fmt.Errorf("%q: %q is not an index position (@0, @1, ...)", s, r.Select)
		}
	case Docker:
		return Ref{}, fmt.Errorf("%q: a registry image is docker://NAME:TAG (with //)", s)
	default:
		return Ref{}, fmt.Errorf("unknown transport %q; the transports are docker-archive, oci-archive, oci and docker://", t)
	}
	if r.Path == "" {
		return Ref{}, fmt.Errorf("%q names no file", s)
	}
	return r, nil
}

var (
	indexRe  = regexp.MustCompile(`^@[0-9]{1,6}$`)
	pinnedRe = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)
)

func (r Ref) String() string {
	switch {
	case r.Transport == Docker:
		return "docker://" + r.Path
	case r.Select != "":
		return r.Transport + ":" + r.Path + ":" + r.Select
	}
	return r.Transport + ":" + r.Path
}

// Config is what an image's config says of the process it runs, and the
// architecture it is for.
type Config struct {
	Entrypoint   []string
	Cmd          []string
	Env          []string
	WorkingDir   string
	User         string
	Architecture string // "": Platform's (Build)
}

// Image is an image opened for reading.
type Image struct {
	Digest string // sha256:HEX of its manifest
	Config Config
	// Location is where Open finds this same image again: the archive's
	// absolute path; a layout's (or an oci-archive's) followed by
	// @sha256:HEX; a registry reference pinned by digest.
	Location string
	img      v1.Image
	stored   *store // the store its blobs are read from (layouts, the cache)
	tmp      string // an oci-archive's layout, unpacked
}

// OpenRef opens the image a lab names (a relative path is in dir): a
// tag of a registry is resolved, and what the cache lacks is pulled.
func OpenRef(r Ref, dir string) (*Image, error) {
	if r.Transport == Docker {
		ref, err := parseDocker(r.Path)
		if err != nil {
			return nil, err
		}
		// What was pulled now was checked as it was written.
		return openDocker(ref, false)
	}
	path := r.Path
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	return open(r.Transport, path, r.Select)
}

// Open opens an image again where Image.Location says it is: apply reads
// the image the plan resolved, by its digest.
func Open(transport, location string) (*Image, error) {
	switch transport {
	case Docker:
		ref, err := parseDocker(location)
		if err != nil {
			return nil, err
		}
		return openDocker(ref, true)
	case OCI, OCIArchive:
		if m := pinnedRe.FindString(location); m != "" {
			return open(transport, strings.TrimSuffix(location, m), m)
		}
	}
	return open(transport, location, "")
}

// open reads an archive or layout at path; sel picks a layout's image.
// A missing, truncated or corrupt one is an error, and so is content
// that does not match its digest. Close it when done.
func open(transport, path, sel string) (*Image, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	im := &Image{Location: path}
	var err error
	switch transport {
	case DockerArchive:
		im.img, err = tarball.ImageFromPath(path, nil)
	case OCIArchive:
		im.tmp, err = os.MkdirTemp("", "labnet-oci-")
		if err == nil {
			if err = untarLayout(path, im.tmp); err == nil {
				im.img, err = openLayout(im.tmp, sel)
				im.stored = &store{dir: im.tmp, what: "the archive " + path}
			}
		}
	case OCI:
		im.img, err = openLayout(path, sel)
		im.stored = &store{dir: path, what: "the OCI layout " + path}
	default:
		err = fmt.Errorf("unknown transport %q", transport)
	}
	if err == nil {
		err = im.read(true)
	}
	if err != nil {
		im.Close()
		return nil, err
	}
	if im.stored != nil {
		im.Location = path + "@" + im.Digest
	}
	return im, nil
}

// openDocker opens a registry's image from the cache, pulling what it
// lacks; verify: check the cached layers' digests (apply, before it ships
// them; a load trusts what the cache checked when it was written, and
// saves hashing every layer on every command).
func openDocker(ref name.Reference, verify bool) (*Image, error) {
	img, s, err := pullDocker(ref)
	if err != nil {
		return nil, err
	}
	im := &Image{img: img, stored: &s}
	if err := im.read(verify); err != nil {
		var bad *blobMismatch
		if !errors.As(err, &bad) {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		// A cached blob damaged since it was written: pulled again.
		os.Remove(s.path(bad.digest))
		if img, s, err = pullDocker(ref); err != nil {
			return nil, err
		}
		im = &Image{img: img, stored: &s}
		if err := im.read(verify); err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
	}
	im.Location = ref.Context().Digest(im.Digest).String()
	return im, nil
}

func (im *Image) read(verify bool) error {
	d, err := im.img.Digest()
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	cf, err := im.img.ConfigFile()
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if cf.OS != "" && cf.OS != Platform.OS {
		return fmt.Errorf("the image is for %s, not %s", cf.OS, Platform.OS)
	}
	if cf.Architecture != "" && cf.Architecture != Platform.Architecture {
		return fmt.Errorf("the image is for %s/%s; labnet runs %s images (the architecture of the machine it runs on)", cf.OS, cf.Architecture, platformString())
	}
	switch {
	case im.stored != nil && verify:
		// Layouts and the cache are read by digest: every layer is
		// checked against its digest now, before any host is changed.
		m, err := im.img.Manifest()
		if err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
		for _, l := range m.Layers {
			if err := im.stored.verify(l.Digest, l.Size); err != nil {
				return err
			}
		}
	case im.stored == nil:
		layers, err := im.img.Layers()
		if err != nil {
			return fmt.Errorf("layers: %w", err)
		}
		for i, l := range layers {
			if _, err := l.Digest(); err != nil {
				return fmt.Errorf("layer %d: %w", i, err)
			}
		}
	}
	im.Digest = d.String()
	c := cf.Config
	im.Config = Config{Entrypoint: c.Entrypoint, Cmd: c.Cmd, Env: c.Env, WorkingDir: c.WorkingDir, User: c.User, Architecture: cf.Architecture}
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

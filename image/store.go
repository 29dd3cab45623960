package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// store is a directory of blobs named by their digest, blobs/sha256/HEX:
// an OCI image layout's blobs, and the same shape for the cache of pulled
// images. Every blob read from it is checked against its name, so a
// layout whose content was changed is refused rather than run.
type store struct {
	dir  string
	what string // how errors name it: "the OCI layout DIR", "the image cache DIR"
}

func (s store) path(h v1.Hash) string {
	return filepath.Join(s.dir, "blobs", h.Algorithm, h.Hex)
}

// checkHash refuses digests other than sha256 (what registries and
// layouts use; a hex of another length would name a file outside blobs/).
func checkHash(h v1.Hash) error {
	if h.Algorithm != "sha256" || len(h.Hex) != 64 {
		return fmt.Errorf("digest %q is not sha256:<64 hex digits>", h)
	}
	if _, err := hex.DecodeString(h.Hex); err != nil {
		return fmt.Errorf("digest %q is not sha256:<64 hex digits>", h)
	}
	return nil
}

// has says whether the blob is there with size bytes (-1: any size).
func (s store) has(h v1.Hash, size int64) bool {
	if checkHash(h) != nil {
		return false
	}
	fi, err := os.Stat(s.path(h))
	return err == nil && fi.Mode().IsRegular() && (size < 0 || fi.Size() == size)
}

// open reads a blob, checking its digest (and size when known) as it is
// read: the error comes at the end of the content, before io.EOF.
func (s store) open(h v1.Hash, size int64) (io.ReadCloser, error) {
	if err := checkHash(h); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(h))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s has no blob %s", s.what, h)
	}
	if err != nil {
		return nil, err
	}
	return &verifier{r: f, c: f, want: h, size: size, sha: sha256.New(), what: s.what}, nil
}

// bytes reads a whole (small) blob, checked.
func (s store) bytes(h v1.Hash, size int64) ([]byte, error) {
	rc, err := s.open(h, size)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// verify reads a blob to its end: its content matches its digest.
func (s store) verify(h v1.Hash, size int64) error {
	rc, err := s.open(h, size)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

// write stores r's content as blob h unless it is there already: into a
// temporary file, checked against h and size (-1: unknown), then renamed
// into place, so a pull cut short or content that does not match leaves
// nothing behind and two labnet runs filling the cache do not collide.
func (s store) write(h v1.Hash, size int64, r io.Reader) error {
	if err := checkHash(h); err != nil {
		return err
	}
	if s.has(h, size) {
		return nil
	}
	dir := filepath.Dir(s.path(h))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".partial-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	v := &verifier{r: r, want: h, size: size, sha: sha256.New(), what: "the content received"}
	_, err = io.Copy(f, v)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(f.Name(), s.path(h))
}

// verifier passes a blob's content through and, at its end, fails unless
// it had the wanted digest and size.
type verifier struct {
	r    io.Reader
	c    io.Closer
	want v1.Hash
	size int64
	n    int64
	sha  hash.Hash
	what string
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.sha.Write(p[:n])
	v.n += int64(n)
	if errors.Is(err, io.EOF) {
		if v.size >= 0 && v.n != v.size {
			return n, &blobMismatch{v.want, fmt.Sprintf("blob %s in %s has %d bytes, its descriptor says %d", v.want, v.what, v.n, v.size)}
		}
		if got := hex.EncodeToString(v.sha.Sum(nil)); got != v.want.Hex {
			return n, &blobMismatch{v.want, fmt.Sprintf("blob %s in %s does not match its digest (its content is sha256:%s)", v.want, v.what, got)}
		}
	}
	return n, err
}

// blobMismatch is a blob whose content is not what its digest says.
type blobMismatch struct {
	digest v1.Hash
	msg    string
}

func (e *blobMismatch) Error() string { return e.msg }

func (v *verifier) Close() error {
	if v.c != nil {
		return v.c.Close()
	}
	return nil
}

// image reads the image whose manifest is blob h (mt: its media type
// from the descriptor that named it, or "").
func (s store) image(h v1.Hash, mt types.MediaType) (v1.Image, error) {
	raw, err := s.bytes(h, -1)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", h, err)
	}
	switch {
	case m.MediaType != "":
		mt = m.MediaType
	case mt == "":
		mt = types.OCIManifestSchema1
	}
	if mt != types.OCIManifestSchema1 && mt != types.DockerManifestSchema2 {
		return nil, fmt.Errorf("%s is a %s, not an image manifest", h, mt)
	}
	return partial.CompressedToImage(&storedImage{s: s, raw: raw, m: m, mt: mt})
}

// storedImage is an image whose blobs are in a store.
type storedImage struct {
	s   store
	raw []byte
	m   *v1.Manifest
	mt  types.MediaType
}

func (im *storedImage) MediaType() (types.MediaType, error) { return im.mt, nil }
func (im *storedImage) RawManifest() ([]byte, error)        { return im.raw, nil }
func (im *storedImage) RawConfigFile() ([]byte, error) {
	return im.s.bytes(im.m.Config.Digest, im.m.Config.Size)
}

func (im *storedImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == im.m.Config.Digest {
		return storedBlob{im.s, im.m.Config}, nil
	}
	for _, d := range im.m.Layers {
		if d.Digest == h {
			return storedBlob{im.s, d}, nil
		}
	}
	return nil, fmt.Errorf("the image has no layer %s", h)
}

// storedBlob is a layer (or the config) of a storedImage.
type storedBlob struct {
	s store
	d v1.Descriptor
}

func (b storedBlob) Digest() (v1.Hash, error)            { return b.d.Digest, nil }
func (b storedBlob) Size() (int64, error)                { return b.d.Size, nil }
func (b storedBlob) MediaType() (types.MediaType, error) { return b.d.MediaType, nil }
func (b storedBlob) Compressed() (io.ReadCloser, error)  { return b.s.open(b.d.Digest, b.d.Size) }

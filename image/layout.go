package image

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// refNameAnnotation is how an OCI layout's index names (tags) an image:
// `skopeo copy ... oci:DIR:TAG` writes it, `oci:DIR:TAG` selects by it.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// openLayout opens the image of the OCI layout in dir that sel names: ""
// the only one (or the only one for Platform), "@N" the index's Nth entry,
// "@sha256:HEX" the image with that manifest digest (how a resolved image
// is opened again), anything else a tag (the ref.name annotation). An
// entry that is itself an index (several platforms) gives its image for
// Platform.
func openLayout(dir, sel string) (v1.Image, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory (an OCI layout is one; an archive of it is oci-archive:PATH)", dir)
	}
	s := store{dir: dir, what: "the OCI layout " + dir}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		return nil, fmt.Errorf("%s is not an OCI layout: it has no oci-layout file", dir)
	}
	if strings.HasPrefix(sel, "@sha256:") {
		h, err := v1.NewHash(sel[1:])
		if err != nil {
			return nil, err
		}
		return s.image(h, "")
	}
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, fmt.Errorf("%s is not an OCI layout: %w", dir, err)
	}
	ix, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s/index.json: %w", dir, err)
	}
	d, err := pick(ix.Manifests, sel)
	if err != nil {
		return nil, err
	}
	return s.descImage(d)
}

// descImage is the image a descriptor names: an image manifest, or the
// image for Platform of an index.
func (s store) descImage(d v1.Descriptor) (v1.Image, error) {
	for depth := 0; d.MediaType.IsIndex(); depth++ {
		if depth > 4 {
			return nil, errors.New("indexes nest deeper than 4")
		}
		raw, err := s.bytes(d.Digest, d.Size)
		if err != nil {
			return nil, err
		}
		ix, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", d.Digest, err)
		}
		if d, err = forPlatform(ix.Manifests, d.Digest.String()); err != nil {
			return nil, err
		}
	}
	if !d.MediaType.IsImage() {
		return nil, fmt.Errorf("%s is a %s, not an image", d.Digest, d.MediaType)
	}
	return s.image(d.Digest, d.MediaType)
}

// pick finds the entry of a layout's index that sel names.
func pick(ds []v1.Descriptor, sel string) (v1.Descriptor, error) {
	if n, ok := strings.CutPrefix(sel, "@"); ok {
		i, err := strconv.Atoi(n)
		if err != nil || i < 0 {
			return v1.Descriptor{}, fmt.Errorf("%q is not an index position (@0, @1, ...)", sel)
		}
		if i >= len(ds) {
			return v1.Descriptor{}, fmt.Errorf("the layout's index has %d entries, no @%d", len(ds), i)
		}
		return ds[i], nil
	}
	var tags []string
	var found []v1.Descriptor
	for _, d := range ds {
		t := d.Annotations[refNameAnnotation]
		if t != "" {
			tags = append(tags, strconv.Quote(t))
		}
		if sel == "" || t == sel {
			found = append(found, d)
		}
	}
	switch {
	case len(ds) == 0:
		return v1.Descriptor{}, errors.New("the layout holds no image")
	case len(found) == 1:
		return found[0], nil
	case len(found) == 0:
		return v1.Descriptor{}, fmt.Errorf("the layout has no image tagged %q (its tags: %s)", sel, listOrNone(tags))
	}
	// Several: the one for this platform, if the index says which.
	d, err := forPlatform(found, "")
	if err != nil {
		tagged := ""
		if sel != "" {
			tagged = " tagged " + strconv.Quote(sel)
		}
		return v1.Descriptor{}, fmt.Errorf("the layout holds %d images%s; name one as PATH:TAG (its tags: %s) or PATH:@N (N from 0)", len(found), tagged, listOrNone(tags))
	}
	return d, nil
}

// forPlatform is the one descriptor for Platform among ds (of the index
// named in, for errors; "" when they are a layout's own entries).
func forPlatform(ds []v1.Descriptor, in string) (v1.Descriptor, error) {
	var found []v1.Descriptor
	var seen []string
	for _, d := range ds {
		if d.Platform == nil {
			continue
		}
		seen = append(seen, d.Platform.OS+"/"+d.Platform.Architecture)
		if d.Platform.OS == Platform.OS && d.Platform.Architecture == Platform.Architecture {
			found = append(found, d)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	if len(found) == 0 && len(ds) == 1 && ds[0].Platform == nil {
		return ds[0], nil
	}
	where := "the index"
	if in != "" {
		where = "index " + in
	}
	if len(found) == 0 {
		return v1.Descriptor{}, fmt.Errorf("%s has no image for %s (it has: %s)", where, platformString(), listOrNone(seen))
	}
	return v1.Descriptor{}, fmt.Errorf("%s has %d images for %s", where, len(found), platformString())
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

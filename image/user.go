package image

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// User is the UID and GID the image's process runs as: its config's user
// ("", "0", "1000", "1000:1000", "nobody", "www-data:adm"), names looked up
// in the image's own /etc/passwd and /etc/group as Docker does: a user's
// group is its passwd entry's unless one is named, and 0 for a UID the
// image's passwd does not list.
func (im *Image) User() (uid, gid uint32, err error) {
	u := im.Config.User
	if u == "" {
		return 0, 0, nil
	}
	us, gs, hasG := strings.Cut(u, ":")
	var passwd, group map[string][2]uint32
	if !isNum(us) || !hasG || !isNum(gs) {
		if passwd, group, err = im.accounts(); err != nil {
			return 0, 0, fmt.Errorf("user %q: %w", u, err)
		}
	}
	if isNum(us) {
		n, _ := strconv.ParseUint(us, 10, 32)
		uid, gid = uint32(n), 0
		for _, e := range passwd {
			if e[0] == uid {
				gid = e[1]
			}
		}
	} else {
		e, ok := passwd[us]
		if !ok {
			return 0, 0, fmt.Errorf("user %q is not in the image's /etc/passwd", us)
		}
		uid, gid = e[0], e[1]
	}
	if hasG {
		if isNum(gs) {
			n, _ := strconv.ParseUint(gs, 10, 32)
			gid = uint32(n)
		} else {
			e, ok := group[gs]
			if !ok {
				return 0, 0, fmt.Errorf("group %q is not in the image's /etc/group", gs)
			}
			gid = e[0]
		}
	}
	return uid, gid, nil
}

func isNum(s string) bool {
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}

// accounts reads the image's /etc/passwd (name -> uid, gid) and /etc/group
// (name -> gid) from its flattened layers.
func (im *Image) accounts() (passwd, group map[string][2]uint32, err error) {
	passwd, group = map[string][2]uint32{}, map[string][2]uint32{}
	rc := mutate.Extract(im.img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return passwd, group, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading the image: %w", err)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/")
		switch name {
		case "etc/passwd":
			readIDs(tr, passwd, 2)
		case "etc/group":
			readIDs(tr, group, 2)
		}
	}
}

// readIDs reads name:x:ID[:ID2...] lines: the fields from index first on.
func readIDs(r io.Reader, into map[string][2]uint32, first int) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) <= first || strings.HasPrefix(f[0], "#") {
			continue
		}
		a, err := strconv.ParseUint(f[first], 10, 32)
		if err != nil {
			continue
		}
		var b uint64
		if len(f) > first+1 {
			b, _ = strconv.ParseUint(f[first+1], 10, 32)
		}
		into[f[0]] = [2]uint32{uint32(a), uint32(b)}
	}
}

package image

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestUser: an image's user as Docker runs it, names looked up in the
// image's own /etc/passwd and /etc/group.
func TestUser(t *testing.T) {
	files := map[string]File{
		"/etc/passwd": {Mode: 0o644, Content: []byte("root:x:0:0:root:/root:/bin/sh\n# a comment\nwww-data:x:33:34:www:/var/www:/bin/false\nodd:x:notanumber:1::/:/bin/sh\n")},
		"/etc/group":  {Mode: 0o644, Content: []byte("root:x:0:\nadm:x:4:\nwww-data:x:34:\n")},
		"/bin/app":    {Mode: 0o755, Content: []byte("#!/bin/sh\n")},
	}
	for _, c := range []struct {
		user     string
		uid, gid uint32
		err      string
	}{
		{"", 0, 0, ""},
		{"0", 0, 0, ""},
		{"1000", 1000, 0, ""}, // not in passwd: group 0, as Docker runs it
		{"33", 33, 34, ""},    // a known UID takes its passwd group, as Docker does
		{"1000:5", 1000, 5, ""},
		{"www-data", 33, 34, ""},
		{"www-data:adm", 33, 4, ""},
		{"33:adm", 33, 4, ""},
		{"nobody", 0, 0, `user "nobody" is not in the image's /etc/passwd`},
		{"www-data:wheel", 0, 0, `group "wheel" is not in the image's /etc/group`},
		{"odd", 0, 0, `user "odd" is not in the image's /etc/passwd`},
	} {
		out := filepath.Join(t.TempDir(), "img.tar")
		if err := Build(files, Config{Cmd: []string{"/bin/app"}, User: c.user}, DockerArchive, out); err != nil {
			t.Fatal(err)
		}
		im, err := Open(DockerArchive, out)
		if err != nil {
			t.Fatal(err)
		}
		uid, gid, err := im.User()
		im.Close()
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("user %q: %v, want an error with %q", c.user, err, c.err)
		case c.err == "" && (err != nil || uid != c.uid || gid != c.gid):
			t.Errorf("user %q: %d:%d %v, want %d:%d", c.user, uid, gid, err, c.uid, c.gid)
		}
	}
}

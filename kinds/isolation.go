package kinds

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/labnet-dev/labnet/hostnet"
)

// FilePrefix starts the attribute of each file of a container:
// "file:/etc/frr/frr.conf" = "0640:" + the content in base64 (any bytes
// survive the state's JSON). Each file is an attribute of its own, so a
// plan names the file that changes, as an update.
const FilePrefix = "file:"

// FileAttr is the value of a file's attribute.
func FileAttr(mode uint32, content []byte) string {
	return fmt.Sprintf("%04o:%s", mode, base64.StdEncoding.EncodeToString(content))
}

// isoPathRe is what a path inside a container may be (config checks the
// lab's; this stops a state broken by hand): it reaches the host's shell
// quoted, and refresh's reads as JSON.
var isoPathRe = regexp.MustCompile(`^(/[A-Za-z0-9._@+-]+)+$`)

// path is a required absolute path of plain components.
func (p *parser) path(key string) string {
	v := p.str(key)
	if v != "" && (!isoPathRe.MatchString(v) || strings.Contains("/"+v+"/", "/../") || strings.Contains("/"+v+"/", "/./")) {
		p.fail(key, fmt.Errorf("not an absolute path of letters, digits and . _ @ + -"))
	}
	return v
}

// fileSpec is a file of a container, as its spec holds it.
type fileSpec struct {
	Path    string `json:"path"`
	Mode    uint32 `json:"mode"`
	Content []byte `json:"content"` // base64 in the state file
}

// isolation reads a container's own namespaces, private dirs and files
// into its spec (none when it has no mount namespace: a state written
// before containers had one).
func (s *guestSpec) isolation(p *parser) {
	if p.a["mount_ns"] == "" {
		return
	}
	i := &hostnet.Isolation{MountNS: p.path("mount_ns"), UTSNS: p.path("uts_ns"), Hostname: p.name("hostname")}
	i.Files = s.dirsAndFiles(p)
	i.Dirs = s.PrivateDirs
	s.MountNS, s.UTSNS, s.Hostname, s.iso = i.MountNS, i.UTSNS, i.Hostname, i
}

// dirsAndFiles reads a container's private dirs and its files (the file:
// attributes, in path order) into its spec, and gives the files as hostnet
// writes them: containers with their own namespaces and image containers
// alike.
func (s *guestSpec) dirsAndFiles(p *parser) []hostnet.File {
	if p.a["private_dirs"] != "" {
		p.json("private_dirs", &s.PrivateDirs)
		for _, d := range s.PrivateDirs {
			if !isoPathRe.MatchString(d) {
				p.fail("private_dirs", fmt.Errorf("%q is not an absolute path of letters, digits and . _ @ + -", d))
			}
		}
	}
	var keys []string
	for k := range p.a {
		if strings.HasPrefix(k, FilePrefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var files []hostnet.File
	for _, k := range keys {
		f, err := parseFile(strings.TrimPrefix(k, FilePrefix), p.get(k), s.PrivateDirs)
		if err != nil {
			p.fail(k, err)
			continue
		}
		files = append(files, f)
		s.Files = append(s.Files, fileSpec{Path: f.Path, Mode: f.Mode, Content: f.Content})
	}
	return files
}

// parseFile reads one file attribute.
func parseFile(path, v string, dirs []string) (hostnet.File, error) {
	mode, b64, ok := strings.Cut(v, ":")
	if !ok {
		return hostnet.File{}, fmt.Errorf("not MODE:BASE64")
	}
	m, err := strconv.ParseUint(mode, 8, 32)
	if err != nil || m > 0o7777 {
		return hostnet.File{}, fmt.Errorf("mode %q is not octal permission bits", mode)
	}
	content, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return hostnet.File{}, fmt.Errorf("content: %w", err)
	}
	inDir := false
	for _, d := range dirs {
		inDir = inDir || strings.HasPrefix(path, d+"/")
	}
	if !isoPathRe.MatchString(path) || !inDir {
		return hostnet.File{}, fmt.Errorf("path %q is not inside a private dir", path)
	}
	return hostnet.File{Path: path, Mode: uint32(m), Content: content}, nil
}

// FilesDigest stands for every file of a container in the attributes of
// the processes on it: a file that changes restarts them (they read it
// when they start), and nothing else does.
func FilesDigest(files map[string]string) string {
	if len(files) == 0 {
		return ""
	}
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%s\n", k, files[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Display shows an attribute that is stored encoded the way a reader
// wants it; ok is false for the others. A file shows its mode, size and
// digest instead of its base64 content.
func Display(key, v string) (string, bool) {
	if !strings.HasPrefix(key, FilePrefix) {
		return "", false
	}
	f, err := parseFile(strings.TrimPrefix(key, FilePrefix), v, []string{""})
	if err != nil {
		return "", false
	}
	return fmt.Sprintf("mode %04o, %d bytes, sha256 %s", f.Mode, len(f.Content), f.Digest()[:12]), true
}

// isoStep is what a container's step does in its own mount and UTS
// namespaces (nil: it has none, or nothing there needs doing).
func isoStep(ct hostnet.Container, n hostnet.Names, op Op, k *hostnet.Observed) *hostnet.IsoStep {
	switch {
	case ct.Iso == nil:
		return nil
	case op.Update:
		return ct.IsoRepair(n, k, goneFiles(op.Before, op.After))
	}
	return ct.IsoCreate(n)
}

// goneFiles are the files of a container's state that its lab drops.
func goneFiles(before, after Attrs) []string {
	var out []string
	for k := range before {
		if strings.HasPrefix(k, FilePrefix) {
			if _, kept := after[k]; !kept {
				out = append(out, strings.TrimPrefix(k, FilePrefix))
			}
		}
	}
	sort.Strings(out)
	return out
}

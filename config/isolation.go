package config

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// A container's private dirs and files are paths inside its own mount
// namespace. Their components are kept to a plain set of characters: they
// go into the host's scripts (quoted) and come back in refresh's reads.
var (
	isoPathRe  = regexp.MustCompile(`^(/[A-Za-z0-9._@+-]+)+$`)
	fileModeRe = regexp.MustCompile(`^[0-7]{3,4}$`)
)

// MaxFileSize bounds a file block's content: it travels in the state and,
// base64-encoded, in the host's script.
const MaxFileSize = 1 << 20

// fileBlock is a file written into a container: exactly one of content
// and source.
var fileBlock = nested{hcl.BlockHeaderSchema{Type: "file", LabelNames: []string{"path"}},
	blockSchema{attrs: []string{"content", "source", "mode"}}}

var fileType = cty.Object(map[string]cty.Type{"path": cty.String, "mode": cty.String})

// isoPathProblem says what is wrong with a private dir or file path, ""
// when nothing is.
func isoPathProblem(p string) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return "is not an absolute path (like /etc/frr)"
	case p == "/":
		return "is the root directory"
	case path.Clean(p) != p:
		return "is not a clean path (no trailing /, //, . or .. components); write " + strconv.Quote(path.Clean(p))
	case !isoPathRe.MatchString(p):
		return "may contain only letters, digits and . _ @ + - between its slashes"
	}
	return ""
}

// reservedDirs are where a private dir must not be: what refresh reads in
// a container (/proc, /sys) and the host's namespace files (/run/netns,
// /run/labnet), which the container's view lets go of when it is made.
var reservedDirs = []string{"/proc", "/sys", "/run/netns", "/run/labnet"}

// under says whether p lies strictly inside dir.
func under(p, dir string) bool { return strings.HasPrefix(p, dir+"/") }

// privateDirs decodes a container's private_dirs: absolute, clean, distinct
// paths, none inside another (a tmpfs inside a tmpfs isolates nothing more).
func (d *dec) privateDirs(name string) []string {
	if !d.has(name) {
		return nil
	}
	v, err := convert.Convert(d.vals[name], cty.List(cty.String))
	if err != nil {
		d.fail(name, "Incorrect attribute value type", "The %s must be a list of absolute paths: %s.", name, err)
		return nil
	}
	var dirs []string
	var rngs []*hcl.Range
	for i, e := range v.AsValueSlice() {
		rng := d.rng(name)
		if tc, ok := d.attrs[name].Expr.(*hclsyntax.TupleConsExpr); ok && i < len(tc.Exprs) {
			rng = tc.Exprs[i].Range().Ptr()
		}
		if e.IsNull() {
			d.l.errorf(rng, "Invalid private_dirs", "%s[%d] must not be null.", name, i)
			d.ok = false
			continue
		}
		p := e.AsString()
		if why := isoPathProblem(p); why != "" {
			d.l.errorf(rng, "Invalid private_dirs", "%s[%d] %q %s.", name, i, p, why)
			d.ok = false
			continue
		}
		if r := slices.IndexFunc(reservedDirs, func(r string) bool { return p == r || under(p, r) }); r >= 0 {
			d.l.errorf(rng, "Invalid private_dirs", "%s[%d] %q is in %s, which labnet needs as the host has it.", name, i, p, reservedDirs[r])
			d.ok = false
			continue
		}
		bad := false
		for j, o := range dirs {
			switch {
			case o == p:
				d.l.errorf(rng, "Duplicate private dir", "%s[%d] %q is already listed at %s.", name, i, p, posString(*rngs[j]))
			case under(p, o) || under(o, p):
				d.l.errorf(rng, "Nested private dirs", "%s[%d] %q and %q are inside one another; list only the outer one.", name, i, p, o)
			default:
				continue
			}
			bad = true
			break
		}
		if bad {
			d.ok = false
			continue
		}
		dirs = append(dirs, p)
		rngs = append(rngs, rng)
	}
	return dirs
}

// decodeFiles reads a container's file blocks: each path once, under one
// of dirs (a file anywhere else would be written to the host's own
// filesystem, shared by every container and left behind by destroy),
// exactly one of content and source, an octal mode. Errors clear d.ok.
func (l *loader) decodeFiles(d *dec, n *node, ctx *hcl.EvalContext, dirs []string, dirsOK bool, owner string) ([]File, cty.Value) {
	var files []File
	var vals []cty.Value
	seen := map[string]hcl.Range{}
	for _, fb := range n.blocksOf("file") {
		p, lrng := fb.block.Labels[0], fb.block.LabelRanges[0]
		fd := l.newDec(fb.attrs, ctx)
		inDir := false
		for _, dir := range dirs {
			inDir = inDir || under(p, dir)
		}
		if why := isoPathProblem(p); why != "" {
			l.errorf(&lrng, "Invalid file path", "The file path %q %s.", p, why)
			fd.ok = false
		} else if prev, dup := seen[p]; dup {
			l.errorf(&lrng, "Duplicate file", "The file %q of %s is already declared at %s.", p, owner, posString(prev))
			fd.ok = false
		} else if !inDir && dirsOK {
			l.errorf(&lrng, "File outside the private dirs",
				"The file %q of %s is not inside one of its private_dirs (%s): it would be written to the host's own filesystem. Add its directory to private_dirs.",
				p, owner, orNone(dirs))
			fd.ok = false
		}
		seen[p] = lrng
		var content []byte
		_, hasContent := fb.attrs["content"]
		_, hasSource := fb.attrs["source"]
		switch {
		case hasContent && hasSource:
			later := "source"
			if fb.attrs["content"].Range.Start.Byte > fb.attrs["source"].Range.Start.Byte {
				later = "content"
			}
			l.errorf(&fb.attrs[later].Range, "Conflicting content and source",
				"A file block sets exactly one of content (the text) and source (a file to copy); %q sets both.", p)
			fd.ok = false
		case !hasContent && !hasSource:
			l.errorf(&fb.block.DefRange, "Missing content or source",
				"A file block needs exactly one of content = \"...\" or source = \"path\"; %q sets neither.", p)
			fd.ok = false
		case hasContent:
			fd.required("content")
			if s, ok := fd.str("content"); ok {
				content = []byte(s)
			}
		default:
			fd.required("source")
			if s, ok := fd.str("source"); ok {
				src := s
				if !filepath.IsAbs(src) {
					src = filepath.Join(l.absDir, src)
				}
				b, err := os.ReadFile(src)
				if err != nil {
					fd.fail("source", "Cannot read file source", "The source %q of file %q cannot be read: %v.", s, p, err)
				}
				content = b
			}
		}
		if fd.ok && len(content) > MaxFileSize {
			what := "content"
			if hasSource {
				what = "source"
			}
			fd.fail(what, "File too large", "The file %q is %d bytes; files may be at most %d bytes.", p, len(content), MaxFileSize)
		}
		mode := uint32(0o644)
		if s, ok := fd.str("mode"); ok {
			m, err := strconv.ParseUint(s, 8, 32)
			if !fileModeRe.MatchString(s) || err != nil {
				fd.fail("mode", "Invalid file mode", "The mode %q of file %q must be 3 or 4 octal digits, like \"0640\".", s, p)
			}
			mode = uint32(m)
		}
		if !fd.ok {
			d.ok = false
			continue
		}
		files = append(files, File{Path: p, Mode: mode, Content: content, Range: fb.block.DefRange})
		vals = append(vals, cty.ObjectVal(map[string]cty.Value{"path": cty.StringVal(p), "mode": cty.StringVal(FormatMode(mode))}))
	}
	if len(vals) == 0 {
		return files, cty.ListValEmpty(fileType)
	}
	return files, cty.ListVal(vals)
}

// FormatMode writes a file mode as four octal digits ("0640").
func FormatMode(m uint32) string {
	s := strconv.FormatUint(uint64(m), 8)
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

// stringList is a list of strings as a value (an empty list for none).
func stringList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

// File is a file written inside a container's mount namespace, under one
// of its private dirs, before its processes start.
type File struct {
	Path    string // absolute and clean
	Mode    uint32 // permission bits, at most 07777
	Content []byte // content, or the source file's bytes read at load time
	Range   hcl.Range
}

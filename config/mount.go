package config

import (
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// Mount is a host path bound into an image container (a mount block).
type Mount struct {
	Source   string // absolute path on the container's host
	Target   string // absolute path in the container
	ReadOnly bool
	Range    hcl.Range
}

// mountBlock binds a host path into an image container; only when asked.
var mountBlock = nested{hcl.BlockHeaderSchema{Type: "mount"},
	blockSchema{attrs: []string{"source", "target", "read_only"}, required: []string{"source", "target"}}}

// decodeMounts reads a container's mount blocks: each target once, clean
// absolute paths, and only on a container with an image (one without sees
// the host's filesystem already). Errors clear d.ok.
func (l *loader) decodeMounts(d *dec, n *node, ctx *hcl.EvalContext, image bool, owner string) []Mount {
	var out []Mount
	seen := map[string]hcl.Range{}
	for _, mb := range n.blocksOf("mount") {
		if !image {
			l.errorf(&mb.block.DefRange, "Mount without an image",
				"%s has no image: it sees the host's filesystem already, so it binds nothing.", owner)
			d.ok = false
			continue
		}
		md := l.newDec(mb.attrs, ctx)
		md.required("source", "target")
		m := Mount{Range: mb.block.DefRange}
		for _, f := range []struct {
			name string
			dst  *string
		}{{"source", &m.Source}, {"target", &m.Target}} {
			s, ok := md.str(f.name)
			if !ok {
				continue
			}
			if why := isoPathProblem(s); why != "" {
				md.fail(f.name, "Invalid mount", "The %s %q of a mount of %s %s.", f.name, s, owner, why)
				continue
			}
			*f.dst = s
		}
		for _, r := range reservedDirs {
			if m.Target == r || under(m.Target, r) || under(r, m.Target) {
				md.fail("target", "Invalid mount", "The target %q of a mount of %s is (or holds) %s, which the container keeps for itself.", m.Target, owner, r)
				break
			}
		}
		if slices.Contains([]string{"/dev", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"}, m.Target) {
			md.fail("target", "Invalid mount", "The target %q of a mount of %s is one runc makes.", m.Target, owner)
		}
		if ro, ok := md.boolean("read_only"); ok {
			m.ReadOnly = ro
		}
		if prev, dup := seen[m.Target]; dup && m.Target != "" {
			md.fail("target", "Duplicate mount", "%s mounts %s twice; the first at %s.", owner, m.Target, posString(prev))
		}
		seen[m.Target] = m.Range
		if !md.ok {
			d.ok = false
			continue
		}
		out = append(out, m)
	}
	return out
}

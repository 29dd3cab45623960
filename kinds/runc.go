package kinds

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
)

// A container with an image runs it with runc (hostnet.RuncContainer):
// its spec holds the image (as written, the archive's path on the machine
// labnet runs on, and the digest), the runc id, bundle and log, the
// process (args, env, working directory, user) and its capabilities.
// Its private dirs and files are in its own layer; it has no mount or UTS
// namespace files (runc makes its namespaces).

// ImageNeed is what a step needs on its host before it runs: the image
// with Digest, read from Archive (Transport) on the machine labnet runs on.
type ImageNeed = hostnet.ImageNeed

var (
	digestRe = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	userRe   = regexp.MustCompile(`^[0-9]{1,10}:[0-9]{1,10}$`)
	capRe    = regexp.MustCompile(`^CAP_[A-Z_]{2,32}$`)
)

// runc reads an image container's attributes into its spec.
func (s *guestSpec) runc(p *parser) {
	s.Image, s.ImageArchive, s.ImageDigest = p.str("image"), p.str("image_archive"), p.str("image_digest")
	if s.ImageDigest != "" && !digestRe.MatchString(s.ImageDigest) {
		p.fail("image_digest", fmt.Errorf("not sha256:<64 hex digits>"))
	}
	if t, _, _ := strings.Cut(s.Image, ":"); t != "docker-archive" && t != "oci-archive" {
		p.fail("image", fmt.Errorf("not docker-archive:PATH or oci-archive:PATH"))
	}
	s.RuncID, s.Bundle, s.Log, s.Owner = p.name("runc_id"), p.path("bundle"), p.path("log"), p.str("owner")
	s.Hostname = p.name("hostname")
	p.json("args", &s.Args)
	if p.get("env") != "" {
		p.json("env", &s.Env)
	}
	s.Workdir = p.str("workdir")
	if s.Workdir != "/" {
		s.Workdir = p.path("workdir")
	}
	s.User = p.str("user")
	if s.User != "" && !userRe.MatchString(s.User) {
		p.fail("user", fmt.Errorf("not UID:GID"))
	}
	if p.get("privileged") != "" {
		s.Privileged = p.boolean("privileged")
	}
	if p.get("caps") != "" {
		p.json("caps", &s.Caps)
		for _, c := range s.Caps {
			if !capRe.MatchString(c) {
				p.fail("caps", fmt.Errorf("%q is not a capability", c))
			}
		}
	}
	files := s.dirsAndFiles(p)
	r := &hostnet.RuncContainer{ID: s.RuncID, Bundle: s.Bundle, Netns: s.Netns, Hostname: s.Hostname, Digest: s.ImageDigest,
		Args: s.Args, Env: s.Env, Cwd: s.Workdir, Caps: s.Caps, Dirs: s.PrivateDirs, Owner: s.Owner, Log: s.Log}
	if s.Privileged != nil {
		r.Privileged = *s.Privileged
	}
	if u, g, ok := strings.Cut(s.User, ":"); ok {
		uid, _ := strconv.ParseUint(u, 10, 32)
		gid, _ := strconv.ParseUint(g, 10, 32)
		r.UID, r.GID = uint32(uid), uint32(gid)
	}
	r.Files = files
	if len(s.Args) == 0 && p.err == nil {
		p.fail("args", fmt.Errorf("empty"))
	}
	s.rc = r
}

// runcAttrs are an image container's attributes (Attrs' share).
func (s *guestSpec) runcAttrs(o out) {
	o.str("image", s.Image)
	o.str("image_archive", s.ImageArchive)
	o.str("image_digest", s.ImageDigest)
	o.str("runc_id", s.RuncID)
	o.str("bundle", s.Bundle)
	o.str("log", s.Log)
	o.str("owner", s.Owner)
	if len(s.Args) > 0 {
		o.str("args", jsonAttr(s.Args))
	}
	if len(s.Env) > 0 {
		o.str("env", jsonAttr(s.Env))
	}
	o.str("workdir", s.Workdir)
	o.str("user", s.User)
	if len(s.Caps) > 0 {
		o.str("caps", jsonAttr(s.Caps))
	}
	o.boolean("privileged", s.Privileged)
}

// runcStep is an image container's share of its step: the image shipped
// when its host lacks it, the bundle made and the container started (on
// create, and on an update that found it not running as made).
func runcStep(s *hostnet.Step, ct hostnet.Container, a Attrs, op Op, k *hostnet.Observed) {
	r := ct.Runc
	if op.Update && k != nil {
		if d, _ := r.Drift(k); len(d) == 0 {
			return
		}
	}
	if k == nil || !k.Images[r.Digest] {
		t, _, _ := strings.Cut(a["image"], ":")
		s.Image = &hostnet.ImageNeed{Digest: r.Digest, Transport: t, Archive: a["image_archive"]}
	}
	if k != nil && k.Runc[r.ID] == nil && !slices.Contains(k.Overlays, r.Bundle+"/rootfs") {
		// Nothing of it on the host to delete or look for first.
		fresh := *r
		fresh.Fresh = true
		r = &fresh
	}
	s.Shell = thenShell(s.Shell, r.CreateShell())
	s.Verify = r.Verify()
}

// imageAttrs are the attributes of a container run by runc from an image.
func imageAttrs(n hostnet.Names, c *config.Container, hostName string) Attrs {
	im := c.Image
	caps := append(append([]string{}, hostnet.DefaultCaps...), im.CapAdd...)
	sort.Strings(caps)
	caps = compact(caps)
	a := Attrs{
		"hostname": c.Name, "image": im.Ref, "image_archive": im.Archive, "image_digest": im.Digest,
		"runc_id": n.RuncID(c.Name), "bundle": n.Bundle(c.Name), "log": n.LogFile(c.Name), "owner": n.Owner(hostName, c.Addr),
		"args": CommandAttr(im.Args), "workdir": im.Cwd, "user": fmt.Sprintf("%d:%d", im.UID, im.GID),
	}
	if len(im.Env) > 0 {
		a["env"] = CommandAttr(im.Env)
	}
	if im.Privileged {
		a["privileged"] = "true"
	} else {
		a["caps"] = CommandAttr(caps)
	}
	return a
}

package kinds

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
)

// A container with an image runs it with runc (hostnet.RuncContainer):
// its spec holds the image (as written, where labnet reads it on the
// machine it runs on: image.Open's location, and the digest), the runc
// id, bundle and log, the process (args, env, working directory, user)
// and its capabilities.
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
	if t, _, _ := strings.Cut(s.Image, ":"); t != "docker-archive" && t != "oci-archive" && t != "oci" && t != "docker" {
		p.fail("image", fmt.Errorf("not docker-archive:PATH, oci-archive:PATH, oci:DIR or docker://NAME"))
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
	if p.get("cgroup") != "" {
		s.Cgroup = p.path("cgroup")
	}
	var mem, quota int64
	if s.Memory = p.get("memory"); s.Memory != "" {
		var err error
		if mem, err = config.ParseMemory(s.Memory); err != nil {
			p.fail("memory", err)
		}
	}
	if c := p.get("cpus"); c != "" {
		var err error
		if s.CPUs, err = strconv.ParseFloat(c, 64); err != nil || s.CPUs <= 0 || s.CPUs > 1024 {
			p.fail("cpus", fmt.Errorf("not a number of CPUs from 0.01 to 1024"))
		}
		quota = int64(math.Round(s.CPUs * hostnet.CPUPeriod))
	}
	if p.get("mounts") != "" {
		p.json("mounts", &s.Mounts)
		for _, m := range s.Mounts {
			if !strings.HasPrefix(m.Source, "/") || !strings.HasPrefix(m.Target, "/") {
				p.fail("mounts", fmt.Errorf("%q -> %q: not absolute paths", m.Source, m.Target))
			}
		}
	}
	files := s.dirsAndFiles(p)
	r := &hostnet.RuncContainer{ID: s.RuncID, Bundle: s.Bundle, Netns: s.Netns, Hostname: s.Hostname, Digest: s.ImageDigest,
		Args: s.Args, Env: s.Env, Cwd: s.Workdir, Caps: s.Caps, Dirs: s.PrivateDirs, Owner: s.Owner, Log: s.Log,
		Cgroup: s.Cgroup, Memory: mem, CPUQuota: quota, Mounts: s.Mounts}
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

// imageWhy says why an image container is replaced when its image, as
// written, is another digest now: a tag a registry moved, an archive or
// layout rebuilt (the plan shows the attributes, not what that means).
func imageWhy(before, after Attrs) []string {
	was, is := before["image_digest"], after["image_digest"]
	if was == "" || is == "" || was == is || before["image"] != after["image"] {
		return nil
	}
	return []string{fmt.Sprintf("the image %s is %s now, was %s", after["image"], is, was)}
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
	o.str("cgroup", s.Cgroup)
	if len(s.Mounts) > 0 {
		o.str("mounts", jsonAttr(s.Mounts))
	}
	o.str("memory", s.Memory)
	if s.CPUs > 0 {
		o.str("cpus", hostnet.FormatCPUs(s.CPUs))
	}
}

// runcStep is an image container's share of its step: the image shipped
// when its host lacks it, the bundle made and the container started (on
// create, and on an update that found it not running as made).
func runcStep(s *hostnet.Step, ct hostnet.Container, a Attrs, op Op, k *hostnet.Observed) {
	r := ct.Runc
	if k != nil && k.Runc[r.ID] == nil && !slices.Contains(k.Overlays, r.Bundle+"/rootfs") {
		// Nothing of it on the host to delete or look for first.
		fresh := *r
		fresh.Fresh = true
		r = &fresh
	}
	sh := r.CreateShell()
	switch {
	case op.Update && filesChanged(op.Before, op.After):
		// Its files are not read back: changed in the lab, they are
		// written into its layer (gone ones removed) and it restarts, as
		// a container's processes do when its files change.
		sh = thenShell(removeFilesShell(r.Bundle+"/rootfs", goneFiles(op.Before, op.After)), sh)
	case op.Update && k != nil:
		// Nothing, the limits in place, or a restart: as refresh found it.
		if sh = r.RepairShell(k); sh == "" {
			return
		}
	}
	if k == nil || !k.Images[r.Digest] {
		t, _, _ := strings.Cut(a["image"], ":")
		s.Image = &hostnet.ImageNeed{Digest: r.Digest, Transport: t, Archive: a["image_archive"]}
	}
	s.Shell = thenShell(s.Shell, sh)
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
		"cgroup": n.Cgroup(hostName, c.Name),
	}
	if len(im.Mounts) > 0 {
		var ms []hostnet.BindMount
		for _, m := range im.Mounts {
			ms = append(ms, hostnet.BindMount{Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
		}
		a["mounts"] = jsonAttr(ms)
	}
	if im.Limits.Memory > 0 {
		a["memory"] = hostnet.FormatMemory(im.Limits.Memory)
	}
	if im.Limits.CPUQuota > 0 {
		a["cpus"] = hostnet.FormatCPUs(float64(im.Limits.CPUQuota) / config.CPUPeriod)
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

// runcRead is what refresh reads of an image container: its runc state,
// cgroup, bind mounts, files, private dirs and (with a UTS namespace of
// its own) hostname.
func runcRead(a Attrs) hostnet.RuncRead {
	rr := hostnet.RuncRead{ID: a["runc_id"], Bundle: a["bundle"], Cgroup: a["cgroup"], Mounts: mountTargets(a), Hostname: a["uts_ns"] == ""}
	for k := range a {
		if p, ok := strings.CutPrefix(k, FilePrefix); ok {
			rr.Files = append(rr.Files, p)
		}
	}
	sort.Strings(rr.Files)
	_ = json.Unmarshal([]byte(a["private_dirs"]), &rr.Dirs) // the spec's check names a bad one
	return rr
}

// mountTargets are the targets of an image container's bind mounts, for
// refresh to read.
func mountTargets(a Attrs) []string {
	var ms []hostnet.BindMount
	if json.Unmarshal([]byte(a["mounts"]), &ms) != nil {
		return nil // the spec's check names it
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.Target)
	}
	return out
}

package config

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/labnet-dev/labnet/image"
)

// ContainerImage is what a container with an image runs: where the
// image comes from, its digest, and its process (the image's config
// overridden by the container's entrypoint, command, env and workdir).
type ContainerImage struct {
	Ref       string // as written: TRANSPORT:PATH, docker://NAME:TAG
	Transport string
	// Archive is where apply reads the image again (image.Open): the
	// archive's absolute path, a layout's followed by @DIGEST, or the
	// registry reference pinned by digest.
	Archive    string
	Digest     string // sha256:HEX of its manifest
	Args       []string
	Env        []string // NAME=VALUE, the image's overridden by the container's
	Cwd        string
	UID, GID   uint32
	Privileged bool
	CapAdd     []string // CAP_ names added to Docker's default set
	Limits     ContainerLimits
	Mounts     []Mount // host paths bound into it (mount blocks)
}

// imageOnly are the container arguments that need an image.
var imageOnly = []string{"entrypoint", "command", "env", "workdir", "privileged", "cap_add", "memory", "cpus"}

var capRe = regexp.MustCompile(`^(CAP_)?[A-Z_]{2,32}$`)

// openedImage is an image as read once for every container that names
// it the same way (a registry is asked once per load).
type openedImage struct {
	digest, location string
	config           image.Config
	err              error
	uid, gid         uint32 // its config's user, names looked up in the image
	userErr          error
}

// imageFailure says, in a diagnostic's words, what kept an image from
// being had.
var imageFailure = map[string]string{
	image.DockerArchive: "cannot be read as a docker-archive",
	image.OCIArchive:    "cannot be read as an oci-archive",
	image.OCI:           "cannot be read as an OCI layout",
	image.Docker:        "cannot be pulled",
}

// decodeImage reads a container's image and what overrides its process;
// nil when it has none. The image is opened now (a registry's tag
// resolved, its image pulled into the cache): a missing, truncated or
// corrupt archive, content that does not match its digest, an image for
// another platform or a registry that cannot be reached is reported at
// its argument, before any host is touched.
func (l *loader) decodeImage(d *dec, addr string) *ContainerImage {
	if !d.has("image") {
		for _, a := range imageOnly {
			if d.has(a) {
				d.fail(a, "Argument needs an image", "%s sets %s, which only a container with image = \"...\" has.", addr, a)
			}
		}
		return nil
	}
	s, ok := d.str("image")
	if !ok {
		return nil
	}
	ref, err := image.ParseRef(s)
	if err != nil {
		d.fail("image", "Invalid image", "The image of %s: %v.", addr, err)
		return nil
	}
	if l.images == nil {
		l.images = map[string]*openedImage{}
	}
	im := l.images[ref.String()]
	if im == nil {
		im = &openedImage{}
		if l.opts.NoImages {
			// Not opened: the command makes nothing from it.
		} else if o, err := image.OpenRef(ref, l.absDir); err != nil {
			im.err = err
		} else {
			im.digest, im.location, im.config = o.Digest, o.Location, o.Config
			im.uid, im.gid, im.userErr = o.User()
			o.Close()
		}
		l.images[ref.String()] = im
	}
	if im.err != nil {
		d.fail("image", "Cannot read image", "The image %q of %s %s: %v.", s, addr, imageFailure[ref.Transport], im.err)
		return nil
	}
	ci := &ContainerImage{Ref: s, Transport: ref.Transport, Archive: im.location, Digest: im.digest}
	cfg := im.config
	entry, cmd := cfg.Entrypoint, cfg.Cmd
	if d.has("entrypoint") {
		// As with Docker, a new entrypoint drops the image's cmd.
		entry, cmd = d.strList("entrypoint"), nil
	}
	if d.has("command") {
		cmd = d.strList("command")
	}
	ci.Args = append(append([]string{}, entry...), cmd...)
	if len(ci.Args) == 0 && d.ok && !l.opts.NoImages {
		d.fail("image", "Nothing to run", "The image %q of %s has no entrypoint or cmd; set command = [...].", s, addr)
	}
	env := map[string]string{}
	var order []string
	for _, e := range cfg.Env {
		k, v, _ := strings.Cut(e, "=")
		if _, seen := env[k]; !seen {
			order = append(order, k)
		}
		env[k] = v
	}
	if d.has("env") {
		m, err := convert.Convert(d.vals["env"], cty.Map(cty.String))
		if err != nil || m.IsNull() {
			d.fail("env", "Incorrect attribute value type", "The env must be a map of strings: %v.", err)
		} else {
			keys := []string{}
			for k := range m.AsValueMap() {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				v := m.AsValueMap()[k]
				switch {
				case k == "" || strings.ContainsAny(k, "=\x00") || v.IsNull() || strings.ContainsRune(v.AsString(), 0):
					d.fail("env", "Invalid env", "env[%q]: a name has no = or NUL, a value no NUL, and neither is null.", k)
					continue
				case k == "LABNET_OWNER":
					d.fail("env", "Invalid env", "env[%q] is labnet's mark of its processes.", k)
					continue
				}
				if _, seen := env[k]; !seen {
					order = append(order, k)
				}
				env[k] = v.AsString()
			}
		}
	}
	for _, k := range order {
		ci.Env = append(ci.Env, k+"="+env[k])
	}
	ci.Cwd = cfg.WorkingDir
	if w, ok := d.str("workdir"); ok {
		ci.Cwd = w
	}
	if ci.Cwd == "" {
		ci.Cwd = "/"
	}
	if why := isoPathProblem(ci.Cwd); ci.Cwd != "/" && why != "" {
		at := "workdir"
		if !d.has("workdir") {
			at = "image"
		}
		d.fail(at, "Invalid workdir", "The working directory %q of %s %s.", ci.Cwd, addr, why)
	}
	if im.userErr != nil {
		d.fail("image", "Unsupported image user", "The image %q of %s: %v.", s, addr, im.userErr)
	}
	ci.UID, ci.GID = im.uid, im.gid
	if p, ok := d.boolean("privileged"); ok {
		ci.Privileged = p
	}
	if d.has("cap_add") {
		for _, c := range d.strList("cap_add") {
			c = strings.ToUpper(c)
			if !strings.HasPrefix(c, "CAP_") {
				c = "CAP_" + c
			}
			if !capRe.MatchString(c) {
				d.fail("cap_add", "Invalid capability", "%q is not a capability name like \"NET_ADMIN\".", c)
				continue
			}
			if !slices.Contains(ci.CapAdd, c) {
				ci.CapAdd = append(ci.CapAdd, c)
			}
		}
	}
	ci.Limits = d.decodeLimits(addr)
	return ci
}

// strList decodes a list of strings (no NUL, none null).
func (d *dec) strList(name string) []string {
	v, err := convert.Convert(d.vals[name], cty.List(cty.String))
	if err != nil || v.IsNull() {
		d.fail(name, "Incorrect attribute value type", "The %s must be a list of strings.", name)
		return nil
	}
	var out []string
	for i, e := range v.AsValueSlice() {
		if e.IsNull() || strings.ContainsRune(e.AsString(), 0) {
			d.fail(name, "Invalid value", "%s[%d] must be a string without NUL.", name, i)
			continue
		}
		out = append(out, e.AsString())
	}
	return out
}

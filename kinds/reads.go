package kinds

import (
	"maps"
	"slices"

	"github.com/labnet-dev/labnet/hostnet"
)

// Reads collects what a refresh reads on one host: what the kinds' Judge
// and Step look at, and nothing else. A read too narrow would hide drift.
type Reads struct {
	r                   hostnet.Reads
	links, inside, fdbs map[string]bool
	kept                map[string]bool // guest namespaces the lab keeps
	iso                 map[string]*hostnet.IsoRead
	runc                map[string]hostnet.RuncRead
	images              map[string]bool
	tools               map[string]bool
	wanted              bool // Reads is called for a resource the lab keeps
}

// Tool says that the resource's steps run these programs on its host:
// refresh looks for them, and a plan stops naming what a host lacks.
func (r *Reads) Tool(names ...string) {
	if !r.wanted {
		return // going: deleting it needs only what made it
	}
	if r.tools == nil {
		r.tools = map[string]bool{}
	}
	for _, n := range names {
		r.tools[n] = true
	}
}

// ToolsOf lists the programs a resource's steps run on its host.
func ToolsOf(kind string, a Attrs) []string {
	k, err := Get(kind)
	if err != nil || k.Info().Provider != "" {
		return nil
	}
	r := &Reads{links: map[string]bool{}, inside: map[string]bool{}, fdbs: map[string]bool{}, kept: map[string]bool{}, wanted: true}
	k.Reads(r, a)
	return sortedSet(r.tools)
}

func (r *Reads) Link(names ...string) {
	for _, n := range names {
		r.links[n] = true
	}
}

// Kept says whether the lab keeps a guest's namespace (its inside is read
// then; a namespace that goes is only listed).
func (r *Reads) Kept(netns string) bool { return r.kept[netns] }

func (r *Reads) Inside(netns string) { r.inside[netns] = true }
func (r *Reads) Fdb(dev string)      { r.fdbs[dev] = true }
func (r *Reads) AllLinks()           { r.r.AllLinks = true }
func (r *Reads) Routes()             { r.r.Routes = true }
func (r *Reads) Neigh()              { r.r.Neigh = true }
func (r *Reads) Nft()                { r.r.Nft = true }
func (r *Reads) Procs()              { r.r.Procs = true }
func (r *Reads) IsoList()            { r.r.IsoList = true }

// Runc reads an image container: its runc state, supervisor and cgroup,
// whether its image is unpacked on the host, and the lab's overlay mounts.
func (r *Reads) Runc(rr hostnet.RuncRead, digest string) {
	if r.runc == nil {
		r.runc, r.images = map[string]hostnet.RuncRead{}, map[string]bool{}
	}
	r.runc[rr.ID], r.images[digest] = rr, true
	r.r.Overlays = true
}

// Iso reads a container's own namespaces; what the lab and the state say
// of one container (they differ when its files change) is read together.
func (r *Reads) Iso(ir hostnet.IsoRead) {
	if r.iso == nil {
		r.iso = map[string]*hostnet.IsoRead{}
	}
	cur := r.iso[ir.MountNS]
	if cur == nil {
		cur = &hostnet.IsoRead{MountNS: ir.MountNS, UTSNS: ir.UTSNS, Hostname: ir.Hostname}
		r.iso[ir.MountNS] = cur
	}
	cur.Dirs = union(cur.Dirs, ir.Dirs)
	cur.Files = union(cur.Files, ir.Files)
}

// union is the sorted set of both lists' members.
func union(a, b []string) []string {
	m := map[string]bool{}
	for _, s := range append(append([]string{}, a...), b...) {
		m[s] = true
	}
	return sortedSet(m)
}

// Gone notes the host veth of a guest that goes (see hostnet.Reads.Gone).
func (r *Reads) Gone(veth, netns string) {
	if r.r.Gone == nil {
		r.r.Gone = map[string]string{}
	}
	r.r.Gone[veth] = netns
}

// Res is a resource as HostReads needs it.
type Res struct {
	Kind, Host string
	Attrs      Attrs
}

// HostReads says, per host, what a refresh must read there to judge the
// resources on it: want (what the lab keeps; nil when all of it goes) and
// prior (the state). Hosts and networks are read by their providers.
func HostReads(want, prior []Res) map[string]*hostnet.Reads {
	kept := map[string]bool{}
	for _, w := range want {
		if Of(w.Kind).Guest && w.Attrs["netns"] != "" {
			kept[w.Attrs["netns"]] = true
		}
	}
	hosts := map[string]*Reads{}
	add := func(res Res, wanted bool) {
		k, err := Get(res.Kind)
		if err != nil || res.Host == "" || k.Info().Provider != "" {
			return
		}
		h := hosts[res.Host]
		if h == nil {
			h = &Reads{links: map[string]bool{}, inside: map[string]bool{}, fdbs: map[string]bool{}, kept: kept}
			hosts[res.Host] = h
		}
		h.wanted = wanted
		k.Reads(h, res.Attrs)
	}
	for _, w := range want {
		add(w, true)
	}
	for _, p := range prior {
		add(p, false)
	}
	out := map[string]*hostnet.Reads{}
	for host, h := range hosts {
		r := h.r
		r.Links, r.Inside, r.Fdb = sortedSet(h.links), sortedSet(h.inside), sortedSet(h.fdbs)
		for _, id := range slices.Sorted(maps.Keys(h.runc)) {
			r.Runc = append(r.Runc, h.runc[id])
		}
		r.Images, r.Tools = sortedSet(h.images), sortedSet(h.tools)
		for _, m := range slices.Sorted(maps.Keys(h.iso)) {
			r.Iso = append(r.Iso, *h.iso[m])
		}
		out[host] = &r
	}
	return out
}

// sortedSet lists a set's non-empty members in order (scripts are compared
// with golden files).
func sortedSet(m map[string]bool) []string {
	var out []string
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

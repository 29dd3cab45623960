package plan

import (
	"slices"

	"github.com/labnet-dev/labnet/expand"
	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/state"
)

// HostReads says, per host, what a refresh must read there to judge the
// lab's resources on it (want: what the lab keeps, nil when all of it goes;
// prior: the state): what observe below and apply's steps look at, and
// nothing else. A read too narrow would hide drift, so every kind the
// observe functions judge is listed here, with the same attributes.
func HostReads(want []*expand.Resource, prior *state.State) map[string]*hostnet.Reads {
	type sets struct {
		r                   *hostnet.Reads
		links, inside, fdbs map[string]bool
	}
	hosts := map[string]*sets{}
	get := func(host string) *sets {
		if hosts[host] == nil {
			hosts[host] = &sets{r: &hostnet.Reads{}, links: map[string]bool{}, inside: map[string]bool{}, fdbs: map[string]bool{}}
		}
		return hosts[host]
	}
	kept := map[string]bool{} // guest namespaces the lab keeps
	for _, w := range want {
		if expand.IsGuest(w.Kind) && w.Attrs["netns"] != "" {
			kept[w.Attrs["netns"]] = true
		}
	}
	add := func(kind, host string, a map[string]string) {
		if host == "" || kind == expand.KindHost || kind == expand.KindNetwork {
			return
		}
		h := get(host)
		r := h.r
		link := func(names ...string) {
			for _, n := range names {
				h.links[n] = true
			}
		}
		switch kind {
		case expand.KindBridge:
			link(a["ifname"])
		case expand.KindLanBridge:
			link(a["ifname"])
			r.AllLinks = true // its uplink is whichever link holds the host address
		case expand.KindPodNet:
			link(a["bridge"])
			r.Routes = true
			if a["backend"] == "vxlan" {
				link(a["vxlan"])
				r.Neigh = true
				h.fdbs[a["vxlan"]] = true
			}
		case expand.KindSegmentLink:
			link(a["bridge"], a["vxlan"])
			h.fdbs[a["vxlan"]] = true
		case expand.KindNIC:
			link(a["veth"])
			if kept[a["netns"]] {
				h.inside[a["netns"]] = true
			}
		case expand.KindContainer, expand.KindVM, expand.KindPod:
			if a["netns"] == "" {
				return
			}
			if kept[a["netns"]] {
				link(a["veth"])
				h.inside[a["netns"]] = true
			} else if a["veth"] != "" {
				if r.Gone == nil {
					r.Gone = map[string]string{}
				}
				r.Gone[a["veth"]] = a["netns"]
			}
		case expand.KindProcess:
			r.Procs = true
		case expand.KindNatTable:
			r.Nft = true
		}
	}
	for _, w := range want {
		add(w.Kind, w.Host, w.Attrs)
	}
	if prior != nil {
		for _, p := range prior.Resources {
			add(p.Kind, p.Host, p.Attrs)
		}
	}
	out := map[string]*hostnet.Reads{}
	for host, h := range hosts {
		h.r.Links, h.r.Inside, h.r.Fdb = sortedSet(h.links), sortedSet(h.inside), sortedSet(h.fdbs)
		out[host] = h.r
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

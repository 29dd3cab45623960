package kinds

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
)

// Resource is one thing labnet makes, with the flat attributes it is
// compared and stored by: what a lab's blocks expand to.
type Resource struct {
	Addr  string
	Kind  string
	Host  string // host resource it lives on ("" for networks; itself for hosts)
	Attrs Attrs
	Deps  []string
}

// Expansion is a lab being turned into resources. Each kind's file
// registers how its blocks expand (expands); what one kind makes that
// others build on (where a node's namespace is, a host's NAT rules) is
// kept here.
type Expansion struct {
	Lab   *config.Lab
	Names hostnet.Names
	res   []*Resource
	nodes map[string]nodeAt // node address -> where commands run in it
	rules map[string][]hostnet.NatRule
}

// nodeAt is where a node is: its host, its network namespace ("" for a
// host) and, for a container with namespaces of its own, their attributes.
type nodeAt struct {
	host, netns string
	iso         Attrs
}

// Phases of an expansion: a phase's expanders see everything the earlier
// phases made.
const (
	phaseUnderlay = iota // networks, hosts, bridges, segments, pod networks
	phaseNodes           // guests: containers, vms, pods (they register as nodes)
	phaseOnNodes         // what lives in or between nodes: links, processes
	phaseHosts           // per-host summaries: nat tables
)

type expander struct {
	phase, seq int
	fn         func(*Expansion)
}

var expanders []expander

// expands registers how a kind's blocks become resources; each kind's file
// calls it from init.
func expands(phase int, fn func(*Expansion)) {
	expanders = append(expanders, expander{phase, len(expanders), fn})
}

// Expand turns a decoded lab into the resources labnet manages, sorted by
// kind and address. It is pure.
func Expand(lab *config.Lab) []*Resource {
	x := &Expansion{Lab: lab, Names: hostnet.Names{Lab: lab.Name}, nodes: map[string]nodeAt{}, rules: map[string][]hostnet.NatRule{}}
	ex := append([]expander(nil), expanders...)
	sort.Slice(ex, func(i, j int) bool {
		if ex[i].phase != ex[j].phase {
			return ex[i].phase < ex[j].phase
		}
		return ex[i].seq < ex[j].seq
	})
	for _, e := range ex {
		e.fn(x)
	}
	Sort(x.res)
	for _, r := range x.res {
		// An empty attribute is an absent one (every reader gets "" for a
		// missing key): plans do not list `delay = ""`, and the state of
		// 1,000 containers decodes in 60% of the time.
		for k, v := range r.Attrs {
			if v == "" {
				delete(r.Attrs, k)
			}
		}
	}
	return x.res
}

// add adds a resource.
func (x *Expansion) add(r *Resource) { x.res = append(x.res, r) }

// deps are the resources addr depends on: what its block refers to and
// extra, sorted, without repeats.
func (x *Expansion) deps(addr string, extra ...string) []string {
	d := append(append([]string{}, x.Lab.Deps[addr]...), extra...)
	sort.Strings(d)
	return compact(d)
}

// rule adds a NAT rule to a host's table.
func (x *Expansion) rule(host string, r hostnet.NatRule) { x.rules[host] = append(x.rules[host], r) }

// node records where a node is, for what lives in it.
func (x *Expansion) node(addr, host, netns string, iso Attrs) {
	x.nodes[addr] = nodeAt{host: host, netns: netns, iso: iso}
}

// host is the host resource at addr.
func (x *Expansion) host(addr string) *config.Host { return config.Find[*config.Host](x.Lab, addr) }

// Sort orders resources by kind, then address.
func Sort(rs []*Resource) {
	sort.SliceStable(rs, func(i, j int) bool {
		if oi, oj := Of(rs[i].Kind).Order, Of(rs[j].Kind).Order; oi != oj {
			return oi < oj
		}
		return rs[i].Addr < rs[j].Addr
	})
}

func compact(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// Names of derived resources and the kernel objects labnet picks itself.
const (
	LanBridgeIfname = "lanbr"  // bridged VMs' bridge holding the host's LAN interface
	VMNatIfname     = "virbr0" // nat VMs' bridge, as libvirt names it
	PodBridgeIfname = "cni0"   // a pod network's bridge on each host, as CNI names it
	VxlanMTU        = 1450     // underlay 1500 - 50 bytes of VXLAN encapsulation
)

func LanBridgeAddr(host string) string { return "lan_bridge." + host }
func VMNatAddr(host string) string     { return "vm_nat." + host }
func PodNetAddr(host string) string    { return "pod_net." + host }
func SegmentLinkAddr(seg, host string) string {
	return "segment_link." + seg + "." + host
}

// LinkEndAddr is the address of one host's end of a cross-host link.
func LinkEndAddr(link string, i int) string { return fmt.Sprintf("%s/end[%d]", link, i) }

// NatTableAddr is the address of a host's nat table resource.
func NatTableAddr(hostName string) string { return "nat_table." + hostName }

// Gateway is the address labnet reserves in a network: its last usable one.
func Gateway(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= (1 << (32 - p.Bits())) - 1 // broadcast
	v--
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// shapingAttrs are a guest's or link's shaping attributes: "rate"
// ("100mbit"), "delay" ("20ms") and "loss" ("0.5%") in canonical form, ""
// when unset (a zero delay or loss is unset: it shapes nothing). They
// change in place: the qdisc is replaced, the guest stays.
func shapingAttrs(s config.Shaping) Attrs {
	a := Attrs{"rate": s.Rate, "delay": "", "loss": ""}
	if s.Delay > 0 {
		a["delay"] = s.Delay.String()
	}
	if s.Loss > 0 {
		a["loss"] = config.FormatLoss(s.Loss)
	}
	return a
}

// itoa is strconv.Itoa, "" for 0 (unset).
func itoa(i int) string {
	if i == 0 {
		return ""
	}
	return strconv.Itoa(i)
}

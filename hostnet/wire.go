package hostnet

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/labnet-dev/labnet/remote"
)

// Wire is a point-to-point link's share of one host. On one host it is a
// veth pair whose two ends are born in their nodes' namespaces (Ends has
// two). Across hosts each host has one end (Ends has one): a VXLAN device
// sending to the other host, made in the node's namespace while its UDP
// socket stays in the host's, so the node sees a plain interface and the
// host carries the tunnel.
type Wire struct {
	Addr  string
	Ends  []WireEnd
	MTU   int
	Vxlan *VxlanInfo // the cross-host end's tunnel; nil for a veth pair
	// Shape: each end's egress shaping, as a guest's eth0 has it (a
	// host's end is not shaped); Host names the host in tc's errors.
	Shape Shaping
	Host  string
}

// WireEnd is one end of a wire: an interface in a node's namespace.
type WireEnd struct {
	Netns   string // "" for the host's own namespace
	Ifname  string
	Addrs   []netip.Prefix
	Gateway netip.Addr // the node's default route goes via this address on it (invalid: none)
}

// endMAC: each end of a veth pair has its own fixed MAC.
func (w Wire) endMAC(n Names, i int) string {
	if w.Vxlan != nil {
		return n.MAC(w.Addr)
	}
	return n.MAC(fmt.Sprintf("%s#%d", w.Addr, i))
}

func (e WireEnd) where() string {
	if e.Netns == "" {
		return ""
	}
	return " netns " + e.Netns
}

// what names the end in drift reasons: "eth1 in ln.lab.r1".
func (e WireEnd) what() string {
	if e.Netns == "" {
		return e.Ifname + " on the host"
	}
	return e.Ifname + " in " + e.Netns
}

// CreateBatch makes the devices, each born in its namespace; Inside then
// sets their MAC, MTU, mark, addresses and routes.
func (w Wire) CreateBatch() []string {
	a := w.Ends[0]
	if w.Vxlan == nil {
		b := w.Ends[1]
		return []string{fmt.Sprintf("link add name %s%s type veth peer name %s%s", a.Ifname, a.where(), b.Ifname, b.where())}
	}
	v := w.Vxlan
	learning := " nolearning"
	if v.Learning {
		learning = ""
	}
	return []string{fmt.Sprintf("link add name %s%s type vxlan id %d local %s remote %s dstport %d%s",
		a.Ifname, a.where(), v.VNI, v.Local, v.Remote, v.Port, learning)}
}

// Inside sets up every end in its namespace (the host's for a host end).
func (w Wire) Inside(n Names) *Inside {
	var all []*Inside
	for i, e := range w.Ends {
		l := InsideLink{Name: e.Ifname, Addrs: []string{}, MTU: w.MTU, MAC: w.endMAC(n, i), Alias: n.Alias(w.Addr)}
		for _, p := range e.Addrs {
			l.Addrs = append(l.Addrs, p.String())
		}
		in := &Inside{Netns: e.Netns, Links: []InsideLink{l}}
		if e.Gateway.IsValid() {
			in.Gateway, in.GatewayDev = e.Gateway.String(), e.Ifname
		}
		all = append(all, in)
	}
	all[0].More = all[1:]
	return all[0]
}

// Judge compares what refresh read of every end with what CreateBatch and
// Inside make. An end missing, of another type, wired to another peer or
// sending elsewhere is a replacement; the rest is repaired in place.
func (w Wire) Judge(n Names, k *Observed) Verdict {
	type seen struct {
		l  Link
		ok bool
	}
	var ends []seen
	there := false
	for _, e := range w.Ends {
		l, ok := e.read(k)
		ends = append(ends, seen{l, ok})
		there = there || ok
	}
	if !there {
		return Verdict{Drift: []string{w.Ends[0].what() + " is missing"}}
	}
	v := Verdict{Exists: true}
	kind := "veth"
	if w.Vxlan != nil {
		kind = "vxlan"
	}
	for i, e := range w.Ends {
		l := ends[i].l
		if !ends[i].ok {
			v.Drift, v.Unrepairable = append(v.Drift, e.what()+" is missing"), true
			continue
		}
		if l.Kind != kind {
			v.Drift, v.Unrepairable = append(v.Drift, fmt.Sprintf("%s is a %q link, not a %s", e.what(), l.Kind, kind)), true
			continue
		}
		if l.Alias != n.Alias(w.Addr) {
			v.Drift = append(v.Drift, fmt.Sprintf("%s is not marked as labnet's (alias %q)", e.what(), l.Alias))
		}
		v.Drift = append(v.Drift, linkDrift(l, e.what(), w.MTU, w.endMAC(n, i))...)
		if !sameSet(l.Addrs, e.Addrs) { // a repair appends what is missing: the order is the kernel's
			v.Drift = append(v.Drift, fmt.Sprintf("%s has %v, wants %v", e.what(), l.Addrs, e.Addrs))
		}
		if e.Gateway.IsValid() {
			if ns := k.Netns[e.Netns]; ns == nil || ns.DefaultGw != e.Gateway {
				v.Drift = append(v.Drift, fmt.Sprintf("default route via %s on %s is missing", e.Gateway, e.what()))
			}
		}
		if ns := k.Netns[e.Netns]; e.Netns != "" && ns != nil {
			v.Drift = append(v.Drift, shapeDrift(ns, e.Ifname, e.what(), w.Shape)...)
		}
		if w.Vxlan != nil {
			l.Name = e.what()
			if remake := vxlanDrift(l, true, *w.Vxlan); len(remake) > 0 {
				v.Drift, v.Unrepairable = append(v.Drift, remake...), true
			}
		}
	}
	// The two ends of a veth pair must be each other's peer: an end wired
	// elsewhere carries nothing to the other node.
	if w.Vxlan == nil && ends[0].ok && ends[1].ok && ends[0].l.Kind == "veth" && ends[1].l.Kind == "veth" {
		a, b := ends[0].l, ends[1].l
		if a.Peer != b.Index || b.Peer != a.Index {
			v.Drift = append(v.Drift, fmt.Sprintf("%s and %s are not each other's peer", w.Ends[0].what(), w.Ends[1].what()))
			v.Unrepairable = true
		}
	}
	return v
}

// read finds the end's interface among what refresh read.
func (e WireEnd) read(k *Observed) (Link, bool) {
	if e.Netns == "" {
		l, ok := k.Links[e.Ifname]
		return l, ok
	}
	ns := k.Netns[e.Netns]
	if ns == nil {
		return Link{}, false
	}
	l, ok := ns.Links[e.Ifname]
	return l, ok
}

// ip is `ip` in the end's namespace.
func (e WireEnd) ip() string {
	if e.Netns == "" {
		return "ip"
	}
	return "ip -n " + remote.Quote(e.Netns)
}

// DeleteShell removes every end that is there (a veth's other end goes
// with it; an end whose namespace went has gone with it).
func (w Wire) DeleteShell() string {
	var l []string
	for _, e := range w.Ends {
		dev := remote.Quote(e.Ifname)
		l = append(l, fmt.Sprintf("if %s link show dev %s >/dev/null 2>&1; then %s link del dev %s; fi", e.ip(), dev, e.ip(), dev))
	}
	return strings.Join(l, "\n") + "\ntrue"
}

// ShapeShell sets every guest end's root qdisc to the link's shaping
// (removing labnet's when it has none); "" when there is nothing to do.
// update: the ends may carry an old shaping.
func (w Wire) ShapeShell(update bool) string {
	if w.Shape.IsZero() && !update {
		return ""
	}
	var l []string
	for _, e := range w.Ends {
		if e.Netns != "" {
			l = append(l, shapeShell(e.Netns, e.Ifname, w.Host, w.Shape))
		}
	}
	return strings.Join(l, "\n")
}

// DownShell takes every end down: a fault, which refresh then sees as
// drift until it is undone or apply repairs it.
func (w Wire) DownShell() string {
	var l []string
	for _, e := range w.Ends {
		l = append(l, fmt.Sprintf("%s link set dev %s down", e.ip(), remote.Quote(e.Ifname)))
	}
	return strings.Join(l, " && ")
}

// sameSet: the same members, in any order.
func sameSet[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

package config

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Link is a point-to-point wire between two nodes: a veth pair when both
// are on one host, a VXLAN tunnel over the LAN when they are not.
type Link struct {
	Resource
	Ends [2]Endpoint
	MTU  int // the endpoints' MTU
	// Cross-host links only: the tunnel's VNI and UDP port.
	VNI     int
	Port    int
	Shaping // each guest end's egress: rate, delay, loss
}

// Endpoint is one end of a link: an interface in a node.
type Endpoint struct {
	Node      string // node address: host, container, vm or pod
	Host      string // the host it is on (itself for a host)
	Ifname    string
	Addresses []netip.Prefix
	Gateway   netip.Addr // the node's default route goes via this address (invalid: none)
	Range     hcl.Range
}

// CrossHost says whether the link's ends are on two hosts.
func (k *Link) CrossHost() bool { return k.Ends[0].Host != k.Ends[1].Host }

// Link MTUs: a veth carries any; the LAN under a tunnel carries 1500
// bytes, of which VXLAN takes 50.
const (
	UnderlayMTU     = 1500
	VxlanOverhead   = 50
	DefaultLinkPort = 4789
)

var (
	// hostIfnames are the names labnet or the netns provider use on a
	// host: a link end there must not take them.
	hostIfnames = []string{"eth0", "lo", "lanbr", "virbr0", "cni0"}
)

const kindLink = "link"

func init() {
	registerKind(kindDef{
		name: kindLink, seq: 9, decode: (*loader).decodeLink,
		schema: blockSchema{attrs: []string{"mtu", "vni", "port", "rate", "delay", "loss"},
			blocks: []nested{{hcl.BlockHeaderSchema{Type: "endpoint"},
				blockSchema{attrs: []string{"node", "ifname", "address", "gateway"}, required: []string{"node", "ifname"}}}}},
		after:  []string{kindSegment, kindPodNetwork}, // their VNIs and ports are taken first
		faults: []string{"down", "up", "shape", "unshape"},
	})
}

// Links are the lab's link blocks' instances, in declaration order.
func (l *Lab) Links() []*Link { return listOf[*Link](l, kindLink) }

func (l *loader) decodeLink(d *dec, n *node, ctx *hcl.EvalContext, res Resource, id cty.Value) (*instance, func()) {
	blocks := n.blocksOf("endpoint")
	if len(blocks) != 2 {
		l.errorf(&n.rng, "Wrong number of endpoints", "A link joins exactly two endpoints; %s has %d endpoint blocks.", res.Addr, len(blocks))
		return nil, nil
	}
	k := &Link{Resource: res, Port: DefaultLinkPort}
	var endVals []cty.Value
	for i, eb := range blocks {
		ed := l.newDec(eb.attrs, ctx)
		ed.required("node", "ifname")
		inst := ed.ref("node", nodeKinds()...)
		for ref := range ed.refs {
			d.refs[ref] = true
		}
		ifname, _ := ed.str("ifname")
		e := Endpoint{Ifname: ifname, Range: eb.block.DefRange}
		if inst != nil {
			e.Node = inst.addr
			e.Host, _ = nodeOf(inst)
		}
		if ifname != "" && (!ifnameRe.MatchString(ifname) || len(ifname) > maxIfname) {
			ed.fail("ifname", "Invalid interface name",
				"%q is not an interface name: a letter, then letters, digits, '_', '.' or '-', at most 15 characters.", ifname)
		}
		e.Addresses = ed.linkAddresses("address")
		if ed.has("gateway") {
			e.Gateway, _ = ed.ipv4("gateway")
		}
		if !ed.ok || inst == nil {
			d.ok = false
			continue
		}
		if !l.checkEndpoint(ed, res.Addr, inst, &e) {
			d.ok = false
			continue
		}
		k.Ends[i] = e
		addrs := cty.ListValEmpty(cty.String)
		if len(e.Addresses) > 0 {
			var vals []cty.Value
			for _, p := range e.Addresses {
				vals = append(vals, cty.StringVal(p.String()))
			}
			addrs = cty.ListVal(vals)
		}
		endVals = append(endVals, cty.ObjectVal(map[string]cty.Value{
			"node": inst.value, "ifname": cty.StringVal(ifname), "address": addrs}))
	}
	if !d.ok {
		return nil, nil
	}
	a, b := k.Ends[0], k.Ends[1]
	if a.Node == b.Node {
		l.errorf(&b.Range, "Link to itself", "Both endpoints of %s are on %s; a link joins two nodes.", res.Addr, a.Node)
		return nil, nil
	}
	for _, pa := range a.Addresses {
		for _, pb := range b.Addresses {
			if pa.Addr() == pb.Addr() {
				l.errorf(&b.Range, "Duplicate address", "Both endpoints of %s have the address %s.", res.Addr, pa.Addr())
				return nil, nil
			}
		}
	}
	k.MTU = hostMTU
	if k.CrossHost() {
		k.MTU = UnderlayMTU - VxlanOverhead
		ha, hb := l.hostByAddr(a.Host), l.hostByAddr(b.Host)
		if ha != nil && hb != nil && ha.Network != hb.Network {
			l.errorf(&n.rng, "Hosts on different networks",
				"%s joins %s on %s (%s) and %s on %s (%s): a link crosses hosts over their LAN, so both must be on one network.",
				res.Addr, a.Node, a.Host, ha.Network, b.Node, b.Host, hb.Network)
			return nil, nil
		}
	}
	if mtu, ok := d.intRange("mtu", 68, 65535); ok {
		if k.CrossHost() && mtu > UnderlayMTU-VxlanOverhead {
			d.fail("mtu", "MTU too large for the underlay",
				"%s crosses from %s to %s over VXLAN: the LAN carries %d bytes and VXLAN takes %d, so the link's MTU can be at most %d, not %d.",
				res.Addr, a.Host, b.Host, UnderlayMTU, VxlanOverhead, UnderlayMTU-VxlanOverhead, mtu)
			return nil, nil
		}
		k.MTU = mtu
	}
	sh, shVals := d.shaping()
	k.Shaping = sh
	for _, name := range []string{"vni", "port"} {
		if d.has(name) && !k.CrossHost() {
			d.fail(name, "Not a tunnel", "%s has both ends on %s: it is a veth pair, without a VXLAN %s.", res.Addr, a.Host, name)
			return nil, nil
		}
	}
	if p, ok := d.port("port"); ok {
		k.Port = p
	}
	if k.CrossHost() {
		vni, explicit := d.intRange("vni", 1, 1<<24-1)
		if !d.ok {
			return nil, nil
		}
		if !explicit {
			vni = l.freeVNI(res.Addr, k.Port)
		}
		if other := l.vniOwner(vni, k.Port); other != "" {
			d.fail("vni", "VNI in use", "The VNI %d on UDP port %d of %s is already used by %s.", vni, k.Port, res.Addr, other)
			return nil, nil
		}
		k.VNI = vni
	}
	v := cty.ObjectVal(withShaping(map[string]cty.Value{
		"id":       id,
		"name":     cty.StringVal(res.Name),
		"endpoint": cty.TupleVal(endVals),
		"mtu":      cty.NumberIntVal(int64(k.MTU)),
	}, shVals))
	return &instance{value: v, res: k}, func() {
		for _, e := range k.Ends {
			l.takeIfname(e.Node, e.Ifname, res.Addr)
			for _, p := range e.Addresses {
				l.nodeNets[e.Node] = append(l.nodeNets[e.Node], ownedPrefix{p, res.Addr})
			}
			if e.Gateway.IsValid() {
				l.nodeGateway[e.Node] = res.Addr
			}
		}
		if k.CrossHost() {
			l.linkVNIs[vniKey{k.VNI, k.Port}] = res.Addr
		}
		add(l.lab, kindLink, k)
	}
}

// hostMTU is a veth pair's MTU unless the link sets one.
const hostMTU = 1500

// linkAddresses decodes an endpoint's address: one IPv4 address with its
// prefix length, or a list of them.
func (d *dec) linkAddresses(name string) []netip.Prefix {
	if !d.has(name) {
		return nil
	}
	v := d.vals[name]
	var texts []string
	switch ty := v.Type(); {
	case ty == cty.String:
		texts = []string{v.AsString()}
	case ty.IsTupleType() || ty.IsListType():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() || e.Type() != cty.String {
				d.fail(name, "Invalid address", "%s must be an address like \"10.0.12.1/30\" or a list of them.", name)
				return nil
			}
			texts = append(texts, e.AsString())
		}
	default:
		d.fail(name, "Invalid address", "%s must be an address like \"10.0.12.1/30\" or a list of them, got %s.", name, typeName(ty))
		return nil
	}
	var out []netip.Prefix
	for _, s := range texts {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is4() {
			d.fail(name, "Invalid address", "%q is not an IPv4 address with its prefix length, like 10.0.12.1/30.", s)
			return nil
		}
		if p.Bits() < 31 && (p.Addr() == p.Masked().Addr() || p.Addr() == broadcast(p)) {
			d.fail(name, "Invalid address", "%s is the network or broadcast address of %s; use a host address.", p.Addr(), p.Masked())
			return nil
		}
		for _, o := range out {
			if o.Overlaps(p) {
				d.fail(name, "Overlapping addresses", "%s overlaps %s on the same endpoint.", p, o)
				return nil
			}
		}
		out = append(out, p)
	}
	return out
}

// ownedPrefix is an address a node has, and what gave it.
type ownedPrefix struct {
	p     netip.Prefix
	owner string
}

type vniKey struct{ vni, port int }

// checkEndpoint checks an endpoint against its node: its interface name
// is free there, its addresses overlap none the node has, and a gateway
// is one of its own subnets on a node without a default route.
func (l *loader) checkEndpoint(ed *dec, link string, inst *instance, e *Endpoint) bool {
	reserved := []string{"lo"}
	switch r := inst.res.(type) {
	case *Host:
		reserved = hostIfnames
		for _, b := range l.hostBridges[r.Addr] {
			reserved = append(reserved, b.Ifname)
		}
	case *Container:
		if r.Bridge != "" || r.Segment != "" {
			reserved = append(reserved, "eth0")
		}
		reserved = append(reserved, nicNames(len(r.NICs))...)
	case *VM:
		reserved = append(append(reserved, "eth0"), nicNames(len(r.NICs))...)
	case *Pod:
		reserved = append(append(reserved, "eth0"), nicNames(len(r.NICs))...)
	}
	for _, name := range reserved {
		if e.Ifname == name {
			ed.fail("ifname", "Interface name taken", "%s already has an interface %s (labnet's own); %s must use another name.", inst.addr, name, link)
			return false
		}
	}
	if strings.HasPrefix(e.Ifname, "ln") || strings.HasPrefix(e.Ifname, "flannel.") || strings.HasPrefix(e.Ifname, "u-") {
		if _, ok := inst.res.(*Host); ok {
			ed.fail("ifname", "Interface name taken", "Names starting with ln, u- or flannel. are labnet's on a host; %s must use another name on %s.", link, inst.addr)
			return false
		}
	}
	if other := l.linkIfnames[inst.addr][e.Ifname]; other != "" {
		ed.fail("ifname", "Duplicate interface", "%s already has an interface %s, from %s.", inst.addr, e.Ifname, other)
		return false
	}
	nets := append(l.ownNets(inst), l.nodeNets[inst.addr]...)
	for _, p := range e.Addresses {
		for _, o := range nets {
			if o.p.Overlaps(p) {
				ed.fail("address", "Overlapping addresses", "%s of %s overlaps %s on %s (from %s).", p, link, o.p, inst.addr, o.owner)
				return false
			}
		}
	}
	if e.Gateway.IsValid() {
		c, ok := inst.res.(*Container)
		switch {
		case !ok || c.Bridge != "" || c.Segment != "":
			ed.fail("gateway", "Gateway not allowed", "%s has a default route of its own (via its eth0); only a container without a bridge takes its default route from a link.", inst.addr)
			return false
		case l.nodeGateway[inst.addr] != "":
			ed.fail("gateway", "Second default route", "%s already takes its default route from %s.", inst.addr, l.nodeGateway[inst.addr])
			return false
		}
		in := false
		for _, p := range e.Addresses {
			if p.Masked().Contains(e.Gateway) && p.Addr() != e.Gateway {
				in = true
			}
		}
		if !in {
			ed.fail("gateway", "Gateway off the link", "The gateway %s is in none of this endpoint's subnets (%v): it must be a neighbour on the link.", e.Gateway, e.Addresses)
			return false
		}
	}
	return true
}

func nicNames(n int) []string {
	var out []string
	for i := 1; i <= n; i++ {
		out = append(out, fmt.Sprintf("eth%d", i))
	}
	return out
}

// ownNets are the subnets a node has without links: its eth0's and its
// NICs'.
func (l *loader) ownNets(inst *instance) []ownedPrefix {
	var out []ownedPrefix
	add := func(p netip.Prefix, owner string) {
		if p.IsValid() {
			out = append(out, ownedPrefix{p, owner})
		}
	}
	nics := func(ns []NIC) {
		for _, nic := range ns {
			add(l.segmentCIDR(nic.Segment), nic.Segment)
		}
	}
	switch r := inst.res.(type) {
	case *Host:
		add(l.networkCIDR(r.Network), r.Network)
	case *Container:
		if b := resource[*Bridge](l, r.Bridge); b != nil {
			add(b.CIDR, b.Addr)
		}
		add(l.segmentCIDR(r.Segment), r.Segment)
		nics(r.NICs)
	case *VM:
		switch r.Mode {
		case "bridged":
			if h := l.hostByAddr(r.Host); h != nil {
				add(l.networkCIDR(h.Network), h.Network)
			}
		case "nat":
			if h := l.hostByAddr(r.Host); h != nil {
				add(h.NatCIDR, r.Host+" (nat_network)")
			}
		case "segment":
			add(l.segmentCIDR(r.Segment), r.Segment)
		}
		nics(r.NICs)
	case *Pod:
		if pn := resource[*PodNetwork](l, r.Network); pn != nil {
			add(pn.Subnets[r.Host], r.Network)
		}
		nics(r.NICs)
	}
	return out
}

// resource is the decoded resource at addr, of type T (the zero T when
// there is none: an address that names nothing yet has no subnet).
func resource[T any](l *loader, addr string) T {
	var zero T
	inst := l.instances[addr]
	if inst == nil {
		return zero
	}
	r, _ := inst.res.(T)
	return r
}

func (l *loader) networkCIDR(addr string) netip.Prefix {
	if nw := resource[*Network](l, addr); nw != nil {
		return nw.CIDR
	}
	return netip.Prefix{}
}

func (l *loader) segmentCIDR(addr string) netip.Prefix {
	if sg := resource[*Segment](l, addr); sg != nil {
		return sg.CIDR
	}
	return netip.Prefix{}
}

func (l *loader) hostByAddr(addr string) *Host { return resource[*Host](l, addr) }

func (l *loader) takeIfname(node, ifname, owner string) {
	if l.linkIfnames[node] == nil {
		l.linkIfnames[node] = map[string]string{}
	}
	l.linkIfnames[node][ifname] = owner
}

// freeVNI picks a cross-host link's VNI from its address, so that adding
// or removing another link does not renumber it (and replace it); a
// collision takes the next free one.
func (l *loader) freeVNI(addr string, port int) int {
	h := fnv.New32a()
	h.Write([]byte(addr))
	const base, span = 1 << 20, 1 << 22
	v := base + int(h.Sum32()%span)
	for l.vniOwner(v, port) != "" {
		v = base + (v-base+1)%span
	}
	return v
}

// vniOwner says what uses a VNI on a UDP port: a link, a segment or a pod
// network ("" when free).
func (l *loader) vniOwner(vni, port int) string {
	if o := l.linkVNIs[vniKey{vni, port}]; o != "" {
		return o
	}
	for _, sg := range l.lab.Segments() {
		if sg.VNI == vni && sg.Port == port {
			return sg.Addr
		}
	}
	for _, pn := range l.lab.PodNetworks() {
		if pn.Backend == "vxlan" && pn.VNI == vni && pn.Port == port {
			return pn.Addr
		}
	}
	return ""
}

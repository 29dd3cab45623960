package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// This file decodes the resource kinds beyond the netns basics: vm,
// pod_network, pod and segment.

// intRange decodes a whole number argument from lo to hi.
func (d *dec) intRange(name string, lo, hi int64) (int, bool) {
	if !d.has(name) {
		return 0, false
	}
	v, err := convert.Convert(d.vals[name], cty.Number)
	if err != nil {
		d.fail(name, "Incorrect attribute value type",
			"Inappropriate value for argument %q: a number is required, got %s.", name, typeName(d.vals[name].Type()))
		return 0, false
	}
	bf := v.AsBigFloat()
	i, _ := bf.Int64()
	if !bf.IsInt() || i < lo || i > hi {
		d.fail(name, "Invalid value", "%s must be a whole number from %d to %d, got %s.", name, lo, hi, bf.Text('f', -1))
		return 0, false
	}
	return int(i), true
}

// refItem is one element of a list of references.
type refItem struct {
	inst *instance
	rng  *hcl.Range // the element's expression when written as [a, b], else the argument's
}

// refList decodes an argument that must be a non-empty list of distinct
// resource instances of kind.
func (d *dec) refList(name, kind string) ([]refItem, bool) {
	if !d.has(name) {
		return nil, false
	}
	v := d.vals[name]
	ty := v.Type()
	if !(ty.IsTupleType() || ty.IsListType() || ty.IsSetType()) {
		hint := ""
		if ty.IsObjectType() || ty.IsMapType() {
			hint = " Use values(...) for the instances of a for_each resource."
		}
		if _, ok := instanceID(v); ok {
			hint = " Write a single instance as [x]."
		}
		d.fail(name, "Invalid reference", "%s must be a list of %ss, got %s.%s", name, kind, typeName(ty), hint)
		return nil, false
	}
	if v.LengthInt() == 0 {
		d.fail(name, "Empty list", "%s must list at least one %s.", name, kind)
		return nil, false
	}
	var elems []hcl.Expression
	if tc, ok := d.attrs[name].Expr.(*hclsyntax.TupleConsExpr); ok && len(tc.Exprs) == v.LengthInt() {
		for _, e := range tc.Exprs {
			elems = append(elems, e)
		}
	}
	var out []refItem
	seen := map[string]bool{}
	i := 0
	for it := v.ElementIterator(); it.Next(); i++ {
		_, e := it.Element()
		rng := d.rng(name)
		if elems != nil {
			rng = elems[i].Range().Ptr()
		}
		id, ok := instanceID(e)
		inst := d.l.instances[id]
		switch {
		case !ok:
			d.l.errorf(rng, "Invalid reference", "%s[%d] must be %s, got %s.", name, i, article(kind), typeName(e.Type()))
		case inst == nil:
			d.l.errorf(rng, "Invalid reference", "%s[%d] must be %s, got an object with id %q, which is not a resource instance.", name, i, article(kind), id)
		case inst.kind != kind:
			d.l.errorf(rng, "Invalid reference", "%s[%d] must be %s, got %s.", name, i, article(kind), id)
		case seen[id]:
			d.l.errorf(rng, "Duplicate reference", "%s lists %s more than once.", name, id)
		default:
			seen[id] = true
			d.refs[id] = true
			out = append(out, refItem{inst: inst, rng: rng})
			continue
		}
		d.ok = false
	}
	return out, d.ok
}

func instanceValues(items []*instance) cty.Value {
	if len(items) == 0 {
		return cty.EmptyTupleVal
	}
	vals := make([]cty.Value, len(items))
	for i, it := range items {
		vals[i] = it.value
	}
	return cty.TupleVal(vals)
}

// --- vm ---

const kindVM = "vm"

func init() {
	registerKind(kindDef{
		name: kindVM, seq: 5, decode: (*loader).decodeVM, node: true,
		faults: []string{"stop", "start"},
		schema: blockSchema{attrs: []string{"host", "mode", "segment", "address", "rate", "delay", "loss"}, required: []string{"host", "mode"},
			blocks: []nested{portBlock, nicBlock}},
	})
}

// VMs are the lab's vm blocks' instances, in declaration order.
func (l *Lab) VMs() []*VM { return listOf[*VM](l, kindVM) }

func (l *loader) decodeVM(d *dec, n *node, ctx *hcl.EvalContext, res Resource, id cty.Value) (*instance, func()) {
	hostInst := d.ref("host", kindHost)
	mode, ok := d.str("mode")
	if ok && mode != "bridged" && mode != "nat" && mode != "segment" {
		d.fail("mode", "Invalid mode", "The vm mode must be \"bridged\", \"nat\" or \"segment\", got %q.", mode)
	}
	// A VM on a tenant segment: its NIC is a port of the segment's bridge.
	var segInst *instance
	if mode == "segment" {
		if !d.has("segment") {
			l.errorf(&n.rng, "Missing segment", "%s has mode = \"segment\" but no segment = <segment>.", res.Addr)
			d.ok = false
		}
		segInst = d.ref("segment", kindSegment)
	} else if d.has("segment") {
		d.fail("segment", "Segment without mode", "A VM joins a segment with mode = \"segment\"; %s has mode %q.", res.Addr, mode)
	}
	var addr netip.Addr
	explicit := d.has("address")
	if explicit {
		addr, _ = d.ipv4("address")
	}
	shaping, shapeVals := d.shaping()
	var ports []Port
	var portVals []cty.Value
	published := map[string]bool{}
	switch mode {
	case "bridged", "segment":
		l.noPorts(d, n, "Port on a "+mode+" VM",
			"%s: a "+mode+" VM is reached at its own address; ports are for nat VMs.", res.Addr)
	case "nat":
		host := ""
		if hostInst != nil {
			host = hostInst.addr
		}
		ports, portVals, published = l.decodePorts(d, n, ctx, host, res.Addr)
	}
	if !d.ok || hostInst == nil {
		return nil, nil
	}
	h := hostInst.res.(*Host)
	nw := l.instances[h.Network].res.(*Network)
	var pools map[string]map[netip.Addr]string
	var pool string
	segVal := cty.NullVal(cty.DynamicPseudoType)
	if mode == "segment" {
		if segInst == nil {
			return nil, nil
		}
		seg := segInst.res.(*Segment)
		if !slices.Contains(seg.Hosts, h.Addr) {
			d.fail("segment", "Host not on segment", "%s is on %s, which %s does not reach (its hosts are %s).",
				res.Addr, h.Addr, seg.Addr, strings.Join(seg.Hosts, ", "))
			return nil, nil
		}
		pools, pool, segVal = l.segTaken, seg.Addr, segInst.value
		addr = l.poolAddress(d, &n.rng, l.segmentPool(seg), res.Addr, addr, explicit)
	} else if mode == "bridged" {
		// On the host's network, from the hosts' pool.
		pools, pool = l.netTaken, nw.Addr
		addr = l.poolAddress(d, &n.rng, addrPool{cidr: nw.CIDR, first: 11, gateway: NetworkGateway(nw.CIDR), name: nw.Addr,
			gwWhat: "labnet's underlay gateway", why: " (bridged VM addresses are allocated from the 11th address on, like hosts')",
			taken: l.netTaken[nw.Addr]}, res.Addr, addr, explicit)
	} else {
		// Behind the host's NAT bridge, which holds the first address.
		if l.natDefault[h.Addr] && h.NatCIDR.Overlaps(nw.CIDR) {
			d.fail("mode", "Overlapping CIDR",
				"%s has the default nat_network %s, which overlaps its network %s (%s); set nat_network on the host to place nat VMs on it.",
				h.Addr, h.NatCIDR, nw.Addr, nw.CIDR)
			return nil, nil
		}
		pools, pool = l.natTaken, h.Addr
		addr = l.poolAddress(d, &n.rng, addrPool{cidr: h.NatCIDR, first: 2, gateway: BridgeGateway(h.NatCIDR), name: "the nat_network of " + h.Addr,
			gwWhat: "the NAT bridge's address", where: " behind " + h.Addr, taken: l.natTaken[h.Addr]}, res.Addr, addr, explicit)
	}
	nics, nicVals, commitNICs := l.decodeNICs(d, n, ctx, h.Addr, res.Addr)
	if !d.ok {
		return nil, nil
	}
	vm := &VM{Resource: res, Host: h.Addr, Mode: mode, Address: addr, Ports: ports, Shaping: shaping, NICs: nics}
	if segInst != nil {
		vm.Segment = segInst.addr
	}
	v := cty.ObjectVal(withShaping(map[string]cty.Value{
		"id":      id,
		"name":    cty.StringVal(res.Name),
		"host":    hostInst.value,
		"mode":    cty.StringVal(mode),
		"segment": segVal,
		"address": cty.StringVal(addr.String()),
		"port":    portList(portVals),
		"nic":     nicVals,
	}, shapeVals))
	return &instance{value: v, res: vm}, func() {
		commitNICs()
		l.take(pools, pool, addr, res.Addr)
		l.publishPorts(h.Addr, published, res.Addr)
		add(l.lab, kindVM, vm)
	}
}

// --- pod_network ---

// podSubnet returns the i-th subnet of p split into /(p.Bits()+bits)
// subnets, like cidrsubnet(p, bits, i).
func podSubnet(p netip.Prefix, bits, i int) netip.Prefix {
	nb := p.Bits() + bits
	return netip.PrefixFrom(u2a(a2u(p.Addr())+uint32(i)<<(32-nb)), nb)
}

const kindPodNetwork = "pod_network"

func init() {
	registerKind(kindDef{
		name: kindPodNetwork, seq: 6, decode: (*loader).decodePodNetwork, maxName: MaxPodNetworkName,
		after:  []string{kindNetwork, kindHost, kindBridge},
		schema: blockSchema{attrs: []string{"cidr", "subnet_bits", "backend", "vni", "port", "hosts"}, required: []string{"cidr"}},
	})
}

// PodNetworks are the lab's pod_network blocks' instances, in declaration order.
func (l *Lab) PodNetworks() []*PodNetwork { return listOf[*PodNetwork](l, kindPodNetwork) }

func (l *loader) decodePodNetwork(d *dec, n *node, _ *hcl.EvalContext, res Resource, id cty.Value) (*instance, func()) {
	p, _ := d.prefix("cidr")
	bits := 8
	if d.has("subnet_bits") {
		bits, _ = d.intRange("subnet_bits", 1, 22)
	}
	backend := "vxlan"
	if s, ok := d.str("backend"); ok {
		if s != "vxlan" && s != "host-gw" {
			d.fail("backend", "Invalid backend", "The backend must be \"vxlan\" or \"host-gw\", got %q.", s)
		}
		backend = s
	}
	vni := 1
	if d.has("vni") {
		vni, _ = d.intRange("vni", 1, 1<<24-1)
	}
	port := 8472
	if pt, ok := d.port("port"); ok {
		port = pt
	}
	var hosts []refItem
	explicitHosts := d.has("hosts")
	if explicitHosts {
		hosts, _ = d.refList("hosts", kindHost)
	} else {
		// Every host of the lab: evalAfter orders every host before a
		// pod_network.
		for _, h := range l.lab.Hosts() {
			hosts = append(hosts, refItem{inst: l.instances[h.Addr], rng: &n.rng})
			d.refs[h.Addr] = true
		}
	}
	if !d.ok {
		return nil, nil
	}
	// Where to report a problem with the subnet split or the host list.
	splitAttr := "cidr"
	if d.has("subnet_bits") {
		splitAttr = "subnet_bits"
	}
	if p.Bits()+bits > 30 {
		d.fail(splitAttr, "Pod subnets too small",
			"Splitting %s with subnet_bits = %d gives /%d subnets; a pod subnet must be at most /30.", p, bits, p.Bits()+bits)
		return nil, nil
	}
	if max := 1<<bits - 1; len(hosts) > max {
		what := fmt.Sprintf("%d hosts", len(hosts))
		if !explicitHosts {
			what += " (every host of the lab)"
		}
		msg := "%s has %s, but %s split into /%d subnets has room for only %d (subnet 0 is not used: the i-th host gets subnet i+1); use a larger cidr or more subnet_bits."
		args := []any{res.Addr, what, p, p.Bits() + bits, max}
		if explicitHosts {
			d.fail("hosts", "Too many hosts for the pod subnets", msg, args...)
		} else {
			d.fail(splitAttr, "Too many hosts for the pod subnets", msg, args...)
		}
		return nil, nil
	}
	for _, nw := range l.lab.Networks() {
		if nw.CIDR.Overlaps(p) {
			d.fail("cidr", "Overlapping CIDR", "The pod cidr %s of %s overlaps %s (%s).", p, res.Addr, nw.Addr, nw.CIDR)
			return nil, nil
		}
	}
	for _, br := range l.lab.Bridges() {
		if br.CIDR.Overlaps(p) {
			d.fail("cidr", "Overlapping CIDR", "The pod cidr %s of %s overlaps %s (%s) on %s.", p, res.Addr, br.Addr, br.CIDR, br.Host)
			return nil, nil
		}
	}
	for _, h := range l.lab.Hosts() {
		if h.NatCIDR.Overlaps(p) {
			hint := ""
			if l.natDefault[h.Addr] {
				hint = " (the default; set nat_network on the host to move it)"
			}
			d.fail("cidr", "Overlapping CIDR", "The pod cidr %s of %s overlaps the nat_network %s of %s%s.", p, res.Addr, h.NatCIDR, h.Addr, hint)
			return nil, nil
		}
	}
	for _, o := range l.lab.PodNetworks() {
		if o.CIDR.Overlaps(p) {
			d.fail("cidr", "Overlapping CIDR", "The pod cidr %s of %s overlaps %s (%s).", p, res.Addr, o.Addr, o.CIDR)
			return nil, nil
		}
	}
	var first *Host
	for _, it := range hosts {
		h := it.inst.res.(*Host)
		if other := l.podNetOf[h.Addr]; other != "" {
			l.errorf(it.rng, "Host in two pod networks", "%s is already in %s; a host may be in at most one pod_network.", h.Addr, other)
			d.ok = false
			continue
		}
		if backend == "host-gw" {
			if first == nil {
				first = h
			} else if h.Network != first.Network {
				d.fail("backend", "Hosts on different networks",
					"The host-gw backend routes each pod subnet via its host's address, so every host must be on one network; %s is on %s but %s is on %s.",
					first.Addr, first.Network, h.Addr, h.Network)
			}
		}
	}
	if !d.ok {
		return nil, nil
	}
	pn := &PodNetwork{Resource: res, CIDR: p, SubnetBits: bits, Backend: backend, VNI: vni, Port: port, Subnets: map[string]netip.Prefix{}}
	var insts []*instance
	subnets := map[string]cty.Value{}
	for i, it := range hosts {
		sub := podSubnet(p, bits, i+1)
		pn.Hosts = append(pn.Hosts, it.inst.addr)
		pn.Subnets[it.inst.addr] = sub
		subnets[it.inst.addr] = cty.StringVal(sub.String())
		insts = append(insts, it.inst)
	}
	subnetVal := cty.MapValEmpty(cty.String)
	if len(subnets) > 0 {
		subnetVal = cty.MapVal(subnets)
	}
	v := cty.ObjectVal(map[string]cty.Value{
		"id":          id,
		"name":        cty.StringVal(res.Name),
		"cidr":        cty.StringVal(p.String()),
		"subnet_bits": cty.NumberIntVal(int64(bits)),
		"backend":     cty.StringVal(backend),
		"vni":         cty.NumberIntVal(int64(vni)),
		"port":        cty.NumberIntVal(int64(port)),
		"hosts":       instanceValues(insts),
		"subnets":     subnetVal,
	})
	return &instance{value: v, res: pn}, func() {
		for _, h := range pn.Hosts {
			l.podNetOf[h] = res.Addr
		}
		add(l.lab, kindPodNetwork, pn)
	}
}

// --- pod ---

var podContainerType = cty.Object(map[string]cty.Type{"name": cty.String, "command": cty.List(cty.String)})

const kindPod = "pod"

func init() {
	registerKind(kindDef{
		name: kindPod, seq: 7, decode: (*loader).decodePod, node: true, collected: (*loader).checkPodContainers,
		faults: []string{"stop", "start"},
		schema: blockSchema{attrs: []string{"host", "network", "address", "rate", "delay", "loss"}, required: []string{"host", "network"},
			blocks: []nested{podContainerBlock, nicBlock}},
		counts: func(lab *Lab) []Count {
			n := 0
			for _, p := range lab.Pods() {
				n += len(p.Containers)
			}
			return []Count{{"pod", len(lab.Pods())}, {"pod container", n}}
		},
	})
}

// Pods are the lab's pod blocks' instances, in declaration order.
func (l *Lab) Pods() []*Pod { return listOf[*Pod](l, kindPod) }

// podContainerBlock is a process of a pod, sharing its namespace, or a
// container run from an image, sharing its network and UTS namespaces;
// command is required without image (decodePodContainer says so).
var podContainerBlock = nested{hcl.BlockHeaderSchema{Type: "container", LabelNames: []string{"name"}},
	blockSchema{attrs: []string{"command", "image", "entrypoint", "env", "workdir", "privileged", "cap_add", "private_dirs"},
		blocks: []nested{fileBlock}}}

func (l *loader) decodePod(d *dec, n *node, ctx *hcl.EvalContext, res Resource, id cty.Value) (*instance, func()) {
	hostInst := d.ref("host", kindHost)
	pnInst := d.ref("network", kindPodNetwork)
	var addr netip.Addr
	explicit := d.has("address")
	if explicit {
		addr, _ = d.ipv4("address")
	}
	shaping, shapeVals := d.shaping()
	var containers []*PodContainer
	var cvals []cty.Value
	for _, sb := range n.blocksOf("container") {
		label := sb.block.Labels[0] // checked by checkPodContainers
		pc := l.decodePodContainer(sb, ctx, res.Addr+"/"+label)
		if pc == nil {
			d.ok = false
			continue
		}
		containers = append(containers, pc)
		cmd := pc.Command
		cmdVals := make([]cty.Value, len(cmd))
		for i, s := range cmd {
			cmdVals[i] = cty.StringVal(s)
		}
		cvals = append(cvals, cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(label), "command": cty.ListVal(cmdVals)}))
	}
	if !d.ok || hostInst == nil || pnInst == nil {
		return nil, nil
	}
	pn := pnInst.res.(*PodNetwork)
	subnet, ok := pn.Subnets[hostInst.addr]
	if !ok {
		d.fail("host", "No pod subnet", "%s has no pod subnet in %s (its hosts are %s).", hostInst.addr, pn.Addr, orNone(pn.Hosts))
		return nil, nil
	}
	// The host's cni bridge holds the subnet's first address; pods get
	// the next ones, unique per subnet.
	pool := subnet.String()
	addr = l.poolAddress(d, &n.rng, addrPool{cidr: subnet, first: 2, gateway: BridgeGateway(subnet),
		name: fmt.Sprintf("the pod subnet of %s in %s", hostInst.addr, pn.Addr), gwWhat: "the host's cni bridge address",
		taken: l.podTaken[pool]}, res.Addr, addr, explicit)
	nics, nicVals, commitNICs := l.decodeNICs(d, n, ctx, hostInst.addr, res.Addr)
	if !d.ok {
		return nil, nil
	}
	pod := &Pod{Resource: res, Host: hostInst.addr, Network: pn.Addr, Address: addr, Containers: containers, Shaping: shaping, NICs: nics}
	clist := cty.ListValEmpty(podContainerType)
	if len(cvals) > 0 {
		clist = cty.ListVal(cvals)
	}
	v := cty.ObjectVal(withShaping(map[string]cty.Value{
		"id":        id,
		"name":      cty.StringVal(res.Name),
		"host":      hostInst.value,
		"network":   pnInst.value,
		"address":   cty.StringVal(addr.String()),
		"container": clist,
		"nic":       nicVals,
	}, shapeVals))
	return &instance{value: v, res: pod}, func() {
		commitNICs()
		l.take(l.podTaken, pool, addr, res.Addr)
		add(l.lab, kindPod, pod)
	}
}

// decodePodContainer reads one container block of a pod: a command run in
// the pod's namespace, or an image (with what overrides its process, its
// private dirs and files) run by runc in the pod's network and UTS
// namespaces. nil after reporting errors.
func (l *loader) decodePodContainer(sb *subBlock, ctx *hcl.EvalContext, addr string) *PodContainer {
	cd := l.newDec(sb.attrs, ctx)
	pc := &PodContainer{Name: sb.block.Labels[0], Range: sb.block.DefRange}
	files := &node{subs: sb.subs} // decodeFiles reads a node's file blocks
	if !cd.has("image") {
		if _, ok := sb.attrs["command"]; !ok && cd.ok {
			r := sb.block.DefRange
			l.errorf(&r, "Missing required argument",
				"The argument \"command\" is required in a pod's container block without image, but no definition was found.")
			return nil
		}
		cd.required("command")
		for _, a := range append(slices.Clone(imageOnly), "private_dirs") {
			if a != "command" && cd.has(a) {
				cd.fail(a, "Argument needs an image", "%s sets %s, which only a container with image = \"...\" has.", addr, a)
			}
		}
		for _, fb := range files.blocksOf("file") {
			l.errorf(&fb.block.DefRange, "File without an image",
				"%s has a file block, which only a container with image = \"...\" has (it is written in the container's own layer).", addr)
			cd.ok = false
		}
		pc.Command = cd.command("command")
		if !cd.ok {
			return nil
		}
		return pc
	}
	before := len(l.diags.Errs())
	pc.Image = l.decodeImage(cd, addr)
	pc.PrivateDirs = cd.privateDirs("private_dirs")
	pc.Files, _ = l.decodeFiles(cd, files, ctx, pc.PrivateDirs, len(l.diags.Errs()) == before, addr)
	if !cd.ok || pc.Image == nil {
		return nil
	}
	pc.Command = pc.Image.Args
	return pc
}

// checkPodContainers checks the labels of a pod's container blocks once
// per pod block: valid names, unique in the pod.
func (l *loader) checkPodContainers(n *node) {
	labels := map[string]*hcl.Block{}
	for _, sb := range n.blocksOf("container") {
		label, lrng := sb.block.Labels[0], sb.block.LabelRanges[0]
		switch {
		case !labelRe.MatchString(label) || len(label) > MaxNodeName:
			l.errorf(&lrng, "Invalid name",
				"The pod container name %q must start with a lowercase letter, contain only lowercase letters, digits, '-' and '_' (%s) and be at most %d characters.",
				label, labelRe, MaxNodeName)
			n.bad = true
		case labels[label] != nil:
			l.errorf(&lrng, "Duplicate pod container",
				"A container %q was already declared in %s at %s; container names must be unique in a pod.", label, n.addr, posString(labels[label].DefRange))
			n.bad = true
		default:
			labels[label] = sb.block
		}
	}
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// --- segment ---

const kindSegment = "segment"

func init() {
	registerKind(kindDef{
		name: kindSegment, seq: 8, decode: (*loader).decodeSegment, maxName: MaxSegmentName,
		after:  []string{kindNetwork, kindPodNetwork},
		schema: blockSchema{attrs: []string{"vni", "cidr", "hosts", "port"}, required: []string{"vni", "cidr", "hosts"}},
	})
}

// Segments are the lab's segment blocks' instances, in declaration order.
func (l *Lab) Segments() []*Segment { return listOf[*Segment](l, kindSegment) }

func (l *loader) decodeSegment(d *dec, n *node, _ *hcl.EvalContext, res Resource, id cty.Value) (*instance, func()) {
	vni, _ := d.intRange("vni", 1, 1<<24-1)
	p, _ := d.prefix("cidr")
	hosts, _ := d.refList("hosts", kindHost)
	port := 4789
	if pt, ok := d.port("port"); ok {
		port = pt
	}
	if !d.ok {
		return nil, nil
	}
	// Segments may overlap each other (tenants are isolated), but not the
	// underlay: evalAfter orders every network before a segment.
	for _, nw := range l.lab.Networks() {
		if nw.CIDR.Overlaps(p) {
			d.fail("cidr", "Overlapping CIDR", "The segment cidr %s of %s overlaps %s (%s).", p, res.Addr, nw.Addr, nw.CIDR)
			return nil, nil
		}
	}
	for _, o := range l.lab.Segments() {
		if o.VNI == vni {
			d.fail("vni", "VNI clash", "The vni %d of %s is already used by %s; segment VNIs must be unique.", vni, res.Addr, o.Addr)
			return nil, nil
		}
	}
	for _, o := range l.lab.PodNetworks() {
		if o.VNI == vni && o.Port == port {
			d.fail("vni", "VNI clash",
				"The vni %d of %s clashes with %s, which uses vni %d on the same VXLAN port %d; change the vni or the port of one of them.",
				vni, res.Addr, o.Addr, o.VNI, port)
			return nil, nil
		}
	}
	seg := &Segment{Resource: res, VNI: vni, CIDR: p, Port: port}
	var insts []*instance
	for _, it := range hosts {
		seg.Hosts = append(seg.Hosts, it.inst.addr)
		insts = append(insts, it.inst)
	}
	v := cty.ObjectVal(map[string]cty.Value{
		"id":    id,
		"name":  cty.StringVal(res.Name),
		"vni":   cty.NumberIntVal(int64(vni)),
		"cidr":  cty.StringVal(p.String()),
		"hosts": instanceValues(insts),
		"port":  cty.NumberIntVal(int64(port)),
	})
	return &instance{value: v, res: seg}, func() { add(l.lab, kindSegment, seg) }
}

package config

import (
	"fmt"
	"net/netip"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

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

// PodNetwork is a flat pod network across hosts (flannel's model).
type PodNetwork struct {
	Resource
	CIDR       netip.Prefix
	SubnetBits int      // default 8: a /24 per host in a /16
	Backend    string   // "vxlan" (default) or "host-gw"
	VNI        int      // default 1
	Port       int      // default 8472
	Hosts      []string // host addresses in the cluster; default every host of the lab, in Lab.Hosts order
	// Subnets gives each cluster host its pod subnet: the (i+1)-th subnet
	// of CIDR for the i-th host in Hosts, so adding a host never moves
	// another host's subnet.
	Subnets map[string]netip.Prefix
}

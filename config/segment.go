package config

import (
	"net/netip"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

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

// Segment is an L2 segment stretched across hosts over VXLAN (a tenant network).
type Segment struct {
	Resource
	VNI   int
	CIDR  netip.Prefix
	Hosts []string // host addresses the segment reaches
	Port  int      // VXLAN UDP port, default 4789
}

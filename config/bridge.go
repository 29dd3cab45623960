package config

import (
	"net/netip"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

const kindBridge = "bridge"

func init() {
	registerKind(kindDef{
		name: kindBridge, seq: 3, decode: (*loader).decodeBridge,
		schema: blockSchema{attrs: []string{"host", "cidr", "masquerade", "name"}, required: []string{"host", "cidr"}},
	})
}

// Bridges are the lab's bridge blocks' instances, in declaration order.
func (l *Lab) Bridges() []*Bridge { return listOf[*Bridge](l, kindBridge) }

func (l *loader) decodeBridge(d *dec, n *node, _ *hcl.EvalContext, res Resource, id cty.Value) (*instance, func()) {
	hostInst := d.ref("host", kindHost)
	p, _ := d.prefix("cidr")
	masq, _ := d.boolean("masquerade")
	ifname, ifRange := n.label, n.block.LabelRanges[0]
	if s, ok := d.str("name"); ok {
		ifname, ifRange = s, *d.rng("name")
	}
	if d.ok && (!ifnameRe.MatchString(ifname) || len(ifname) > maxIfname || ifname == "lo") {
		hint := ""
		if !d.has("name") {
			hint = " Set name = \"...\" to choose another interface name."
		}
		l.errorf(&ifRange, "Invalid interface name",
			"The bridge interface name %q must match %s, be at most %d characters and not be \"lo\".%s", ifname, ifnameRe, maxIfname, hint)
		d.ok = false
	}
	if !d.ok || hostInst == nil {
		return nil, nil
	}
	h := hostInst.res.(*Host)
	nw := l.instances[h.Network].res.(*Network)
	if p.Overlaps(nw.CIDR) {
		d.fail("cidr", "Overlapping CIDR", "The bridge cidr %s overlaps %s (%s), the network of %s.", p, nw.Addr, nw.CIDR, h.Addr)
		return nil, nil
	}
	for _, o := range l.hostBridges[h.Addr] {
		if o.CIDR.Overlaps(p) {
			d.fail("cidr", "Overlapping CIDR", "The bridge cidr %s overlaps %s (%s) on the same host %s.", p, o.Addr, o.CIDR, h.Addr)
			return nil, nil
		}
	}
	if other := l.ifnames[h.Addr][ifname]; other != "" {
		l.errorf(&ifRange, "Duplicate interface name", "The bridge interface name %q is already used on %s by %s.", ifname, h.Addr, other)
		return nil, nil
	}
	br := &Bridge{Resource: res, Host: h.Addr, Ifname: ifname, CIDR: p, Gateway: BridgeGateway(p), Masquerade: masq}
	v := cty.ObjectVal(map[string]cty.Value{
		"id":         id,
		"name":       cty.StringVal(ifname),
		"host":       hostInst.value,
		"cidr":       cty.StringVal(p.String()),
		"gateway":    cty.StringVal(br.Gateway.String()),
		"masquerade": cty.BoolVal(masq),
	})
	return &instance{value: v, res: br}, func() {
		l.hostBridges[h.Addr] = append(l.hostBridges[h.Addr], br)
		if l.ifnames[h.Addr] == nil {
			l.ifnames[h.Addr] = map[string]string{}
		}
		l.ifnames[h.Addr][ifname] = res.Addr
		add(l.lab, kindBridge, br)
	}
}

type Bridge struct {
	Resource
	Host       string // host address
	Ifname     string // kernel interface name (the block label unless name is set)
	CIDR       netip.Prefix
	Gateway    netip.Addr // first host address of CIDR
	Masquerade bool
}

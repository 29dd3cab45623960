package config

import (
	"net/netip"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

const kindNetwork = "network"

func init() {
	registerKind(kindDef{
		name: kindNetwork, seq: 1, decode: (*loader).decodeNetwork,
		schema: blockSchema{attrs: []string{"cidr"}, required: []string{"cidr"}},
	})
}

// Networks are the lab's network blocks' instances, in declaration order.
func (l *Lab) Networks() []*Network { return listOf[*Network](l, kindNetwork) }

func (l *loader) decodeNetwork(d *dec, _ *node, _ *hcl.EvalContext, res Resource, id cty.Value) (*instance, func()) {
	p, ok := d.prefix("cidr")
	if !ok {
		return nil, nil
	}
	for _, o := range l.lab.Networks() {
		if o.CIDR.Overlaps(p) {
			d.fail("cidr", "Overlapping networks", "The cidr %s of %s overlaps %s (%s).", p, res.Addr, o.Addr, o.CIDR)
			return nil, nil
		}
	}
	nw := &Network{Resource: res, CIDR: p}
	v := cty.ObjectVal(map[string]cty.Value{
		"id":      id,
		"name":    cty.StringVal(res.Name),
		"cidr":    cty.StringVal(p.String()),
		"gateway": cty.StringVal(NetworkGateway(p).String()),
	})
	return &instance{value: v, res: nw}, func() { add(l.lab, kindNetwork, nw) }
}

type Network struct {
	Resource
	CIDR netip.Prefix
}

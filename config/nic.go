package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// NIC is an extra interface of a guest on a tenant segment: a
// `nic { segment = segment.x, address = "..." }` block on a container, VM or
// pod puts eth1, eth2, ... on those segments, besides the guest's eth0.
type NIC struct {
	Segment string // segment address
	Address netip.Addr
	Range   hcl.Range
}

// nicBlock is a guest's interface on a tenant segment.
var nicBlock = nested{hcl.BlockHeaderSchema{Type: "nic"},
	blockSchema{attrs: []string{"segment", "address"}, required: []string{"segment"}}}

// decodeNICs reads a guest's nic blocks. The returned commit records the
// addresses once the guest is accepted.
func (l *loader) decodeNICs(d *dec, n *node, ctx *hcl.EvalContext, host, owner string) ([]NIC, cty.Value, func()) {
	var nics []NIC
	var vals []cty.Value
	mine := map[string]map[netip.Addr]bool{} // addresses this guest takes, per segment
	for i, nb := range n.blocksOf("nic") {
		nd := l.newDec(nb.attrs, ctx)
		nd.required("segment")
		segInst := nd.ref("segment", kindSegment)
		for id := range nd.refs {
			d.refs[id] = true
		}
		if segInst == nil || !nd.ok {
			d.ok = false
			continue
		}
		seg := segInst.res.(*Segment)
		if host != "" && !slices.Contains(seg.Hosts, host) {
			nd.fail("segment", "Host not on segment", "%s is on %s, which %s does not reach (its hosts are %s).",
				owner, host, seg.Addr, strings.Join(seg.Hosts, ", "))
			d.ok = false
			continue
		}
		taken := map[netip.Addr]string{}
		for a, o := range l.segTaken[seg.Addr] {
			taken[a] = o
		}
		for a := range mine[seg.Addr] {
			taken[a] = owner
		}
		var addr netip.Addr
		if nd.has("address") {
			addr, _ = nd.ipv4("address")
			nd.checkAddress("address", addr, seg.CIDR, netip.Addr{}, seg.Addr, "")
			if other := taken[addr]; nd.ok && other != "" {
				nd.fail("address", "Duplicate address", "The address %s of %s's nic %d is already used by %s on %s.", addr, owner, i, other, seg.Addr)
			}
		} else {
			var ok bool
			if addr, ok = allocate(seg.CIDR, 1, netip.Addr{}, taken); !ok {
				l.errorf(&nb.block.DefRange, "No free address", "%s (%s) has no free address for %s; set address explicitly.", seg.Addr, seg.CIDR, owner)
				nd.ok = false
			}
		}
		if !nd.ok {
			d.ok = false
			continue
		}
		if mine[seg.Addr] == nil {
			mine[seg.Addr] = map[netip.Addr]bool{}
		}
		mine[seg.Addr][addr] = true
		nics = append(nics, NIC{Segment: seg.Addr, Address: addr, Range: nb.block.DefRange})
		vals = append(vals, cty.ObjectVal(map[string]cty.Value{
			"segment": segInst.value,
			"address": cty.StringVal(addr.String()),
			"ifname":  cty.StringVal(fmt.Sprintf("eth%d", i+1)),
		}))
	}
	list := cty.ListValEmpty(cty.DynamicPseudoType)
	if len(vals) > 0 {
		list = cty.TupleVal(vals)
	}
	return nics, list, func() {
		for _, nic := range nics {
			l.take(l.segTaken, nic.Segment, nic.Address, owner)
		}
	}
}

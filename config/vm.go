package config

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

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

// VM is a guest with the plumbing of a real VM's NIC.
type VM struct {
	Resource
	Host    string
	Mode    string     // "bridged", "nat" or "segment"
	Segment string     // segment address, for mode = "segment"
	Address netip.Addr // bridged: in the host's network; nat: in the host's NatCIDR
	Ports   []Port     // nat only: host_port on the host's LAN address -> the VM
	Shaping            // rate, delay, loss on the VM's NIC
	NICs    []NIC      // nic blocks: eth1, eth2, ... on tenant segments
}

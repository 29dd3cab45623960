package config

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// A container needs exactly one of bridge and segment, or neither when
// links alone wire it; decodeContainer checks that.
const kindContainer = "container"

func init() {
	registerKind(kindDef{
		name: kindContainer, seq: 4, decode: (*loader).decodeContainer, node: true,
		faults: []string{"stop", "start"},
		schema: blockSchema{attrs: []string{"host", "bridge", "segment", "address", "rate", "delay", "loss", "private_dirs",
			"image", "entrypoint", "command", "env", "workdir", "privileged", "cap_add", "memory", "cpus"}, required: []string{"host"},
			blocks: []nested{portBlock, nicBlock, fileBlock, mountBlock}},
	})
}

// Containers are the lab's container blocks' instances, in declaration order.
func (l *Lab) Containers() []*Container { return listOf[*Container](l, kindContainer) }

func (l *loader) decodeContainer(d *dec, n *node, ctx *hcl.EvalContext, res Resource, id cty.Value) (*instance, func()) {
	hostInst := d.ref("host", kindHost)
	var brInst, segInst *instance
	_, hasBr := d.attrs["bridge"]
	_, hasSeg := d.attrs["segment"]
	switch {
	case hasBr && hasSeg:
		later := "segment"
		if d.attrs["bridge"].Range.Start.Byte > d.attrs["segment"].Range.Start.Byte {
			later = "bridge"
		}
		l.errorf(&d.attrs[later].Range, "Conflicting bridge and segment",
			"A container is on exactly one of a bridge or a segment; %s sets both bridge and segment.", res.Addr)
		d.ok = false
	case !hasBr && !hasSeg:
		// Wired by links alone (a router, or a host behind one): no eth0.
		if d.has("address") {
			d.fail("address", "Address without a bridge",
				"%s is on no bridge or segment, so it has no eth0 for this address; give its links addresses instead.", res.Addr)
		}
	case hasBr:
		d.required("bridge")
		brInst = d.ref("bridge", kindBridge)
	default:
		d.required("segment")
		segInst = d.ref("segment", kindSegment)
	}
	var addr netip.Addr
	explicit := d.has("address")
	if explicit {
		addr, _ = d.ipv4("address")
	}
	shaping, shapeVals := d.shaping()
	before := len(d.l.diags.Errs())
	img := l.decodeImage(d, res.Addr)
	dirs := d.privateDirs("private_dirs")
	files, fileVals := l.decodeFiles(d, n, ctx, dirs, len(d.l.diags.Errs()) == before, res.Addr)
	if mounts := l.decodeMounts(d, n, ctx, img != nil, res.Addr); img != nil {
		img.Mounts = mounts
	}
	var ports []Port
	var portVals []cty.Value
	published := map[string]bool{}
	switch {
	case hasSeg && !hasBr:
		l.noPorts(d, n, "Port on a segment",
			"%s is on a segment: a tenant segment has no NAT, so it cannot publish ports; reach it at its own address.", res.Addr)
	case !hasSeg && !hasBr:
		l.noPorts(d, n, "Port without a bridge",
			"%s is on no bridge: ports are published through a bridge's NAT.", res.Addr)
	default:
		host := ""
		if hostInst != nil {
			host = hostInst.addr
		}
		ports, portVals, published = l.decodePorts(d, n, ctx, host, res.Addr)
	}
	if !d.ok || hostInst == nil || (brInst == nil && segInst == nil && (hasBr || hasSeg)) {
		return nil, nil
	}
	c := &Container{Resource: res, Host: hostInst.addr, Ports: ports, Shaping: shaping}
	var pools map[string]map[netip.Addr]string
	var pool string
	brVal, segVal := cty.NullVal(cty.DynamicPseudoType), cty.NullVal(cty.DynamicPseudoType)
	if brInst != nil {
		br := brInst.res.(*Bridge)
		if br.Host != hostInst.addr {
			d.fail("bridge", "Bridge on another host", "The bridge %s is on %s, but %s is on %s.", br.Addr, br.Host, res.Addr, hostInst.addr)
			return nil, nil
		}
		pools, pool, c.Bridge, brVal = l.bridgeTaken, br.Addr, br.Addr, brInst.value
		addr = l.poolAddress(d, &n.rng, addrPool{cidr: br.CIDR, first: 2, gateway: br.Gateway, name: br.Addr,
			gwWhat: "the bridge's own address", taken: l.bridgeTaken[br.Addr]}, res.Addr, addr, explicit)
	} else if segInst != nil {
		seg := segInst.res.(*Segment)
		if !slices.Contains(seg.Hosts, hostInst.addr) {
			d.fail("segment", "Host not on segment", "%s is on %s, which %s does not reach (its hosts are %s).",
				res.Addr, hostInst.addr, seg.Addr, strings.Join(seg.Hosts, ", "))
			return nil, nil
		}
		pools, pool, c.Segment, segVal = l.segTaken, seg.Addr, seg.Addr, segInst.value
		addr = l.poolAddress(d, &n.rng, l.segmentPool(seg), res.Addr, addr, explicit)
	}
	nics, nicVals, commitNICs := l.decodeNICs(d, n, ctx, hostInst.addr, res.Addr)
	if !d.ok {
		return nil, nil
	}
	c.Address, c.NICs, c.PrivateDirs, c.Files, c.Image = addr, nics, dirs, files, img
	addrVal := cty.NullVal(cty.String)
	if addr.IsValid() {
		addrVal = cty.StringVal(addr.String())
	}
	v := cty.ObjectVal(withShaping(map[string]cty.Value{
		"id":           id,
		"name":         cty.StringVal(res.Name),
		"host":         hostInst.value,
		"bridge":       brVal,
		"segment":      segVal,
		"address":      addrVal,
		"port":         portList(portVals),
		"nic":          nicVals,
		"private_dirs": stringList(dirs),
		"file":         fileVals,
	}, shapeVals))
	return &instance{value: v, res: c}, func() {
		commitNICs()
		if pools != nil {
			l.take(pools, pool, addr, res.Addr)
		}
		l.publishPorts(c.Host, published, res.Addr)
		add(l.lab, kindContainer, c)
	}
}

type Container struct {
	Resource
	Host    string // host address
	Bridge  string // bridge address ("" when the container is on a segment)
	Segment string // segment address, instead of a bridge ("" when on a bridge)
	Address netip.Addr
	Ports   []Port
	Shaping       // rate, delay, loss on the container's eth0
	NICs    []NIC // nic blocks: eth1, eth2, ... on tenant segments
	// PrivateDirs are empty tmpfs mounts in the container's own mount
	// namespace (every container has one, and a UTS namespace).
	PrivateDirs []string
	Files       []File // file blocks, in source order
	// Image: run by runc from an image (nil: host binaries through
	// process blocks, as before).
	Image *ContainerImage
}

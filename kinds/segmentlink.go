package kinds

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/labnet-dev/labnet/hostnet"
)

// segmentLink: a host's port into a tenant segment: a bridge and a VXLAN
// device flooding to every other host of the segment.
type segmentLink struct{}

func init() {
	register(segmentLink{})
	expands(phaseUnderlay, expandSegments)
	draws(7, drawSegments)
}

// expandSegments: each host a segment reaches gets its bridge and VXLAN
// device, knowing the other hosts.
func expandSegments(x *Expansion) {
	for _, sg := range x.Lab.Segments() {
		for _, h := range sg.Hosts {
			var peers []string
			for _, o := range sg.Hosts {
				if o != h {
					peers = append(peers, hostnet.Peer{Host: x.host(o).Address}.String())
				}
			}
			x.add(&Resource{Addr: SegmentLinkAddr(sg.Name, x.host(h).Name), Kind: SegmentLink, Host: h, Attrs: Attrs{
				"host": h, "segment": sg.Addr, "bridge": "lns-" + sg.Name, "vxlan": "lnv-" + sg.Name,
				"vni": strconv.Itoa(sg.VNI), "port": strconv.Itoa(sg.Port), "local": x.host(h).Address.String(),
				"mtu": strconv.Itoa(VxlanMTU), "peers": strings.Join(peers, " "),
			}, Deps: []string{h}})
		}
	}
}

func (segmentLink) Info() Info {
	return Info{Name: SegmentLink, Order: 5, Parents: []string{"host"},
		ForceNew: []string{"host", "segment", "bridge", "vxlan", "vni", "port", "local", "mtu"}}
}

// segmentLinkSpec is a host's port into a tenant segment's typed spec.
type segmentLinkSpec struct {
	Host    string     `json:"host,omitzero"`
	Segment string     `json:"segment,omitzero"`
	Bridge  string     `json:"bridge,omitzero"`
	Vxlan   string     `json:"vxlan,omitzero"`
	VNI     int        `json:"vni,omitzero"`
	Port    int        `json:"port,omitzero"`
	Local   netip.Addr `json:"local,omitzero"`
	MTU     int        `json:"mtu,omitzero"`
	Peers   []peer     `json:"peers,omitempty"` // the segment's other hosts
}

func segmentLinkSpecOf(addr string, a Attrs) (*segmentLinkSpec, error) {
	p := parser{a: a}
	s := &segmentLinkSpec{Host: p.str("host"), Segment: p.str("segment"), Bridge: p.name("bridge"), Vxlan: p.name("vxlan"),
		VNI: p.num("vni", 1, 1<<24-1), Port: p.num("port", 1, 65535), Local: p.addr("local"), MTU: p.num("mtu", 68, 65535),
		Peers: peersOf(p.peers("peers"))}
	return s, p.done(addr)
}

func (s *segmentLinkSpec) Attrs() Attrs {
	o := make(out, 9)
	o.str("host", s.Host)
	o.str("segment", s.Segment)
	o.str("bridge", s.Bridge)
	o.str("vxlan", s.Vxlan)
	o.num("vni", s.VNI)
	o.num("port", s.Port)
	o.addr("local", s.Local)
	o.num("mtu", s.MTU)
	o.str("peers", peersAttr(s.Peers))
	return Attrs(o)
}

func (segmentLink) Spec(addr string, a Attrs) (Spec, error) { return segmentLinkSpecOf(addr, a) }
func (segmentLink) NewSpec() Spec                           { return &segmentLinkSpec{} }

func segmentLinkOf(addr string, a Attrs) (hostnet.SegmentLink, error) {
	s, err := segmentLinkSpecOf(addr, a)
	return hostnet.SegmentLink{Addr: addr, Bridge: s.Bridge, Vxlan: s.Vxlan, VNI: s.VNI, Port: s.Port, Local: s.Local, MTU: s.MTU,
		Peers: hostnetPeers(s.Peers)}, err
}

func (segmentLink) Reads(r *Reads, a Attrs) {
	r.Link(a["bridge"], a["vxlan"])
	r.Fdb(a["vxlan"])
}

func (segmentLink) Judge(n hostnet.Names, addr string, a Attrs, k *hostnet.Observed, going bool) (hostnet.Verdict, error) {
	return judge(segmentLinkOf, n, addr, a, k)
}

func (segmentLink) Step(n hostnet.Names, op Op, k *hostnet.Observed) (hostnet.Step, error) {
	sl, err := segmentLinkOf(op.Addr, op.Attrs())
	if err != nil {
		return hostnet.Step{}, err
	}
	if op.Delete {
		return hostnet.Step{Batch: sl.DeleteBatch()}, nil
	}
	gone, err := gonePeers(op)
	if err != nil {
		return hostnet.Step{}, err
	}
	var s hostnet.Step
	if op.Update {
		remake := sl.RemakeVxlan(k)
		s.Batch = sl.RepairBatch(n, remake)
		// Flood entries are appended, not replaced: write only the missing
		// ones (all of them on a remade device).
		var missing []hostnet.Peer
		for _, p := range sl.Peers {
			if k == nil || remake || !k.HasFdb(sl.Vxlan, "00:00:00:00:00:00", p.Host) {
				missing = append(missing, p)
			}
		}
		sl.Peers = missing
	} else {
		s.Batch = sl.CreateBatch(n)
	}
	s.Shell = sl.PeerShell(gone)
	return s, nil
}

func drawSegments(d *Drawing) {
	for _, s := range d.Lab.Segments() {
		for _, h := range s.Hosts {
			sid := s.Addr + "@" + h
			d.shape(sid, fmt.Sprintf("lns-%s\nVNI %d %s", s.Name, s.VNI, s.CIDR), "hexagon", h)
			d.line(sid, h, "", false)
		}
		for i := range s.Hosts {
			for j := i + 1; j < len(s.Hosts); j++ {
				d.line(s.Addr+"@"+s.Hosts[i], s.Addr+"@"+s.Hosts[j], fmt.Sprintf("vxlan vni %d", s.VNI), true)
			}
		}
	}
}

package kinds

import (
	"github.com/labnet-dev/labnet/hostnet"
)

// segmentLink: a host's port into a tenant segment: a bridge and a VXLAN
// device flooding to every other host of the segment.
type segmentLink struct{}

func init() { register(segmentLink{}) }

func (segmentLink) Info() Info {
	return Info{Name: SegmentLink, Order: 5, Parents: []string{"host"},
		ForceNew: []string{"host", "segment", "bridge", "vxlan", "vni", "port", "local", "mtu"}}
}

func segmentLinkOf(addr string, a Attrs) (hostnet.SegmentLink, error) {
	p := parser{a: a}
	s := hostnet.SegmentLink{Addr: addr, Bridge: p.name("bridge"), Vxlan: p.name("vxlan"), VNI: p.num("vni", 1, 1<<24-1),
		Port: p.num("port", 1, 65535), Local: p.addr("local"), MTU: p.num("mtu", 68, 65535), Peers: p.peers("peers")}
	return s, p.done(addr)
}

func (segmentLink) Check(addr string, a Attrs) error { _, err := segmentLinkOf(addr, a); return err }

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

package kinds

import (
	"net/netip"

	"github.com/labnet-dev/labnet/hostnet"
)

// nic: a guest's extra interface (eth1 and on) on a tenant segment.
type nic struct{}

func init() { register(nic{}) }

func (nic) Info() Info {
	return Info{Name: NIC, Order: 9, Parents: []string{"guest"}, WithHost: true,
		ForceNew: []string{"host", "guest", "netns", "ifname", "veth", "bridge", "bridge_ifname"}}
}

func nicOf(addr string, a Attrs) (hostnet.NIC, error) {
	p := parser{a: a}
	c := hostnet.NIC{Addr: addr, Netns: p.name("netns"), Ifname: p.name("ifname"), HostVeth: p.name("veth"), Bridge: p.name("bridge_ifname"),
		Address: netip.PrefixFrom(p.addr("address"), p.num("bits", 0, 32)), MTU: p.num("mtu", 68, 65535)}
	p.str("bridge") // the segment link it is a port of
	return c, p.done(addr)
}

func (nic) Check(addr string, a Attrs) error { _, err := nicOf(addr, a); return err }

func (nic) Reads(r *Reads, a Attrs) {
	r.Link(a["veth"])
	if r.Kept(a["netns"]) {
		r.Inside(a["netns"])
	}
}

func (nic) Judge(n hostnet.Names, addr string, a Attrs, k *hostnet.Observed, going bool) (hostnet.Verdict, error) {
	return judge(nicOf, n, addr, a, k)
}

func (nic) Step(n hostnet.Names, op Op, k *hostnet.Observed) (hostnet.Step, error) {
	c, err := nicOf(op.Addr, op.Attrs())
	if err != nil {
		return hostnet.Step{}, err
	}
	if op.Delete {
		if !hasLink(k, c.HostVeth) {
			return hostnet.Step{}, nil
		}
		return hostnet.Step{Batch: c.DeleteBatch()}, nil
	}
	s := hostnet.Step{Inside: c.Inside(n)}
	if op.Update {
		s.Batch = c.RepairBatch(n)
	} else {
		s.Batch = c.CreateBatch(n)
	}
	return s, nil
}

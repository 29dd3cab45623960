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

// nicSpec is a guest's extra interface's typed spec.
type nicSpec struct {
	Host         string     `json:"host,omitzero"`
	Guest        string     `json:"guest,omitzero"`
	Netns        string     `json:"netns,omitzero"`
	Ifname       string     `json:"ifname,omitzero"`
	Veth         string     `json:"veth,omitzero"`
	Bridge       string     `json:"bridge,omitzero"` // the segment link it is a port of
	BridgeIfname string     `json:"bridge_ifname,omitzero"`
	Address      netip.Addr `json:"address,omitzero"`
	Bits         int        `json:"bits,omitzero"`
	MTU          int        `json:"mtu,omitzero"`
}

func nicSpecOf(addr string, a Attrs) (*nicSpec, error) {
	p := parser{a: a}
	s := &nicSpec{Host: p.str("host"), Guest: p.str("guest"), Netns: p.name("netns"), Ifname: p.name("ifname"), Veth: p.name("veth"),
		Bridge: p.str("bridge"), BridgeIfname: p.name("bridge_ifname"), Address: p.addr("address"), Bits: p.num("bits", 1, 32),
		MTU: p.num("mtu", 68, 65535)}
	return s, p.done(addr)
}

func (s *nicSpec) Attrs() Attrs {
	o := make(out, 10)
	o.str("host", s.Host)
	o.str("guest", s.Guest)
	o.str("netns", s.Netns)
	o.str("ifname", s.Ifname)
	o.str("veth", s.Veth)
	o.str("bridge", s.Bridge)
	o.str("bridge_ifname", s.BridgeIfname)
	o.addr("address", s.Address)
	o.num("bits", s.Bits)
	o.num("mtu", s.MTU)
	return Attrs(o)
}

func (nic) Spec(addr string, a Attrs) (Spec, error) { return nicSpecOf(addr, a) }
func (nic) NewSpec() Spec                           { return &nicSpec{} }

func nicOf(addr string, a Attrs) (hostnet.NIC, error) {
	s, err := nicSpecOf(addr, a)
	return hostnet.NIC{Addr: addr, Netns: s.Netns, Ifname: s.Ifname, HostVeth: s.Veth, Bridge: s.BridgeIfname,
		Address: netip.PrefixFrom(s.Address, s.Bits), MTU: s.MTU}, err
}

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

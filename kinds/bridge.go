package kinds

import (
	"github.com/labnet-dev/labnet/hostnet"
)

// bridge: a Linux bridge on a host holding its network's gateway address
// (docker0, and virbr0 for nat VMs).
type bridge struct{}

func init() { register(bridge{}) }

func (bridge) Info() Info {
	return Info{Name: Bridge, Order: 3, Parents: []string{"host"}, ForceNew: []string{"host", "ifname", "cidr", "gateway"}}
}

func bridgeOf(addr string, a Attrs) (hostnet.Bridge, error) {
	p := parser{a: a}
	b := hostnet.Bridge{Addr: addr, Ifname: p.name("ifname"), CIDR: p.prefix("cidr"), Gateway: p.addr("gateway")}
	return b, p.done(addr)
}

func (bridge) Check(addr string, a Attrs) error { _, err := bridgeOf(addr, a); return err }
func (bridge) Reads(r *Reads, a Attrs)          { r.Link(a["ifname"]) }

func (bridge) Judge(n hostnet.Names, addr string, a Attrs, k *hostnet.Observed, going bool) (hostnet.Verdict, error) {
	return judge(bridgeOf, n, addr, a, k)
}

func (bridge) Step(n hostnet.Names, op Op, k *hostnet.Observed) (hostnet.Step, error) {
	b, err := bridgeOf(op.Addr, op.Attrs())
	if err != nil || !hasLink(k, b.Ifname) && (op.Delete || op.Update) {
		return hostnet.Step{}, err
	}
	switch {
	case op.Delete:
		return hostnet.Step{Batch: b.DeleteBatch()}, nil
	case op.Update:
		return hostnet.Step{Batch: b.RepairBatch(n)}, nil
	}
	return hostnet.Step{Batch: b.CreateBatch(n)}, nil
}

package kinds

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/labnet-dev/labnet/hostnet"
)

// bridge: a Linux bridge on a host holding its network's gateway address
// (docker0, and virbr0 for nat VMs).
type bridge struct{}

func init() {
	register(bridge{})
	expands(phaseUnderlay, expandBridges)
	draws(2, drawBridges)
}

func expandBridges(x *Expansion) {
	for _, b := range x.Lab.Bridges() {
		x.add(&Resource{Addr: b.Addr, Kind: Bridge, Host: b.Host, Attrs: Attrs{
			"host": b.Host, "ifname": b.Ifname, "cidr": b.CIDR.String(), "gateway": b.Gateway.String(),
			"masquerade": strconv.FormatBool(b.Masquerade),
		}, Deps: x.deps(b.Addr, b.Host)})
		if b.Masquerade {
			x.rule(b.Host, hostnet.NatRule{Owner: b.Addr, Kind: "masquerade", Source: b.CIDR, NotDest: b.CIDR})
		}
	}
}

func (bridge) Info() Info {
	return Info{Name: Bridge, Order: 3, Parents: []string{"host"}, ForceNew: []string{"host", "ifname", "cidr", "gateway"}}
}

// bridgeSpec is a bridge's typed spec. Masquerade is what the host's
// nat_table does for it; it is kept here to be shown and diffed.
type bridgeSpec struct {
	Host       string       `json:"host,omitzero"`
	Ifname     string       `json:"ifname,omitzero"`
	CIDR       netip.Prefix `json:"cidr,omitzero"`
	Gateway    netip.Addr   `json:"gateway,omitzero"`
	Masquerade *bool        `json:"masquerade,omitzero"` // nil: absent, not false
}

func bridgeSpecOf(addr string, a Attrs) (*bridgeSpec, error) {
	p := parser{a: a}
	s := &bridgeSpec{Host: p.str("host"), Ifname: p.name("ifname"), CIDR: p.prefix("cidr"), Gateway: p.addr("gateway"), Masquerade: p.boolean("masquerade")}
	return s, p.done(addr)
}

func (s *bridgeSpec) Attrs() Attrs {
	o := make(out, 5)
	o.str("host", s.Host)
	o.str("ifname", s.Ifname)
	o.prefix("cidr", s.CIDR)
	o.addr("gateway", s.Gateway)
	o.boolean("masquerade", s.Masquerade)
	return Attrs(o)
}

func (bridge) Spec(addr string, a Attrs) (Spec, error) { return bridgeSpecOf(addr, a) }
func (bridge) NewSpec() Spec                           { return &bridgeSpec{} }

func bridgeOf(addr string, a Attrs) (hostnet.Bridge, error) {
	s, err := bridgeSpecOf(addr, a)
	return hostnet.Bridge{Addr: addr, Ifname: s.Ifname, CIDR: s.CIDR, Gateway: s.Gateway}, err
}

func (bridge) Reads(r *Reads, a Attrs) { r.Link(a["ifname"]) }

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

func drawBridges(d *Drawing) {
	for _, b := range d.Lab.Bridges() {
		label := fmt.Sprintf("%s\n%s %s", b.Ifname, b.CIDR, map[bool]string{true: "NAT", false: ""}[b.Masquerade])
		d.shape(b.Addr, strings.TrimSpace(label), "hexagon", b.Host)
		d.line(b.Addr, b.Host, "", false)
	}
}

package kinds

import (
	"fmt"
	"net/netip"

	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/provider"
)

// network: the lab's LAN, made (or found) by its hosts' provider.
type network struct{ providerMade }

func init() {
	register(network{})
	expands(phaseUnderlay, expandNetworks)
	draws(0, drawNetworks)
}

// expandNetworks: a network is made by the provider of its hosts (the
// default builds the LAN itself; the others' hosts have one already).
func expandNetworks(x *Expansion) {
	by := map[string]string{}
	for _, h := range x.Lab.Hosts() {
		if by[h.Network] == "" {
			by[h.Network] = h.Provider
		}
	}
	for _, nw := range x.Lab.Networks() {
		p := by[nw.Addr]
		if p == "" {
			p = provider.Default
		}
		x.add(&Resource{Addr: nw.Addr, Kind: Network, Attrs: Attrs{
			"name": nw.Name, "cidr": nw.CIDR.String(), "gateway": Gateway(nw.CIDR).String(), "provider": p,
		}, Deps: x.deps(nw.Addr)})
	}
}

func (network) Info() Info {
	return Info{Name: Network, Order: 0, ForceNew: []string{"name", "cidr", "gateway"}, Provider: "network"}
}

// networkSpec is a network's typed spec.
type networkSpec struct {
	Name     string       `json:"name,omitzero"`
	CIDR     netip.Prefix `json:"cidr,omitzero"`
	Gateway  netip.Addr   `json:"gateway,omitzero"`
	Provider string       `json:"provider,omitzero"` // who makes it (netns, ssh, lima)
}

func networkSpecOf(addr string, a Attrs) (*networkSpec, error) {
	p := parser{a: a}
	s := &networkSpec{Name: p.str("name"), CIDR: p.prefix("cidr"), Gateway: p.addr("gateway"), Provider: p.opt("provider")}
	return s, p.done(addr)
}

func (s *networkSpec) Attrs() Attrs {
	o := make(out, 4)
	o.str("name", s.Name)
	o.prefix("cidr", s.CIDR)
	o.addr("gateway", s.Gateway)
	o.str("provider", s.Provider)
	return Attrs(o)
}

func (network) Spec(addr string, a Attrs) (Spec, error) { return networkSpecOf(addr, a) }
func (network) NewSpec() Spec                           { return &networkSpec{} }

// NetworkOf is the provider's view of a network resource.
func NetworkOf(addr string, a Attrs) (provider.Network, error) {
	s, err := networkSpecOf(addr, a)
	return provider.Network{Addr: addr, Name: s.Name, CIDR: s.CIDR, Gateway: s.Gateway}, err
}

// providerMade is what networks and hosts share: their provider reads,
// judges and makes them, not a script on a host.
type providerMade struct{}

func (providerMade) Reads(*Reads, Attrs) {}

func (providerMade) Judge(hostnet.Names, string, Attrs, *hostnet.Observed, bool) (hostnet.Verdict, error) {
	return hostnet.Verdict{}, fmt.Errorf("judged by its provider")
}

func (providerMade) Step(hostnet.Names, Op, *hostnet.Observed) (hostnet.Step, error) {
	return hostnet.Step{}, fmt.Errorf("made by its provider")
}

func drawNetworks(d *Drawing) {
	for _, n := range d.Lab.Networks() {
		d.shape(n.Addr, fmt.Sprintf("%s\n%s", n.Addr, n.CIDR), "ellipse", "")
	}
}

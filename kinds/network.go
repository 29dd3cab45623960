package kinds

import (
	"fmt"

	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/provider"
)

// network: the lab's LAN, made (or found) by its hosts' provider.
type network struct{ providerMade }

func init() { register(network{}) }

func (network) Info() Info {
	return Info{Name: Network, Order: 0, ForceNew: []string{"name", "cidr", "gateway"}, Provider: "network"}
}

// NetworkOf is the provider's view of a network resource.
func NetworkOf(addr string, a Attrs) (provider.Network, error) {
	p := parser{a: a}
	nw := provider.Network{Addr: addr, Name: p.str("name"), CIDR: p.prefix("cidr"), Gateway: p.addr("gateway")}
	return nw, p.done(addr)
}

func (network) Check(addr string, a Attrs) error { _, err := NetworkOf(addr, a); return err }

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

package kinds

import (
	"github.com/labnet-dev/labnet/provider"
)

// host: a machine on the LAN, made and read by its provider.
type host struct{ providerMade }

func init() { register(host{}) }

func (host) Info() Info {
	return Info{Name: Host, Order: 1, Parents: []string{"network"}, Provider: "host", Node: true,
		ForceNew: []string{"name", "network", "address", "provider", "network_cidr", "network_name", "network_gateway"}}
}

// HostOf is the provider's view of a host resource.
func HostOf(addr string, a Attrs) (provider.Host, error) {
	p := parser{a: a}
	h := provider.Host{Addr: addr, Name: p.str("name"), Address: p.addr("address"),
		Network: provider.Network{Addr: p.str("network"), Name: p.str("network_name"), CIDR: p.prefix("network_cidr"), Gateway: p.addr("network_gateway")}}
	p.optNum("ssh_port", 1, 65535)
	p.optNum("lima_cpus", 1, 1024)
	return h, p.done(addr)
}

func (host) Check(addr string, a Attrs) error { _, err := HostOf(addr, a); return err }

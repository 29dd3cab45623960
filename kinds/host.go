package kinds

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/labnet-dev/labnet/config"

	"github.com/labnet-dev/labnet/provider"
)

// host: a machine on the LAN, made and read by its provider.
type host struct{ providerMade }

func init() {
	register(host{})
	expands(phaseUnderlay, expandHosts)
	draws(1, drawHosts)
}

func expandHosts(x *Expansion) {
	for _, h := range x.Lab.Hosts() {
		nw := config.Find[*config.Network](x.Lab, h.Network)
		a := Attrs{
			"name": h.Name, "network": h.Network, "address": h.Address.String(), "provider": h.Provider,
			"network_name": nw.Name, "network_cidr": nw.CIDR.String(), "network_gateway": Gateway(nw.CIDR).String(),
		}
		if s := h.SSH; s != nil {
			a["ssh_user"], a["ssh_port"], a["ssh_private_key_file"] = s.User, strconv.Itoa(s.Port), s.PrivateKeyFile
			a["ssh_host_key"], a["ssh_known_hosts"], a["ssh_netns"] = s.HostKey, s.KnownHosts, s.Netns
		}
		if l := h.Lima; l != nil {
			a["lima_cpus"], a["lima_memory"], a["lima_disk"] = strconv.Itoa(l.CPUs), l.Memory, l.Disk
			a["lima_template"], a["lima_image"], a["lima_network"] = l.Template, l.Image, l.Network
			a["lima_provision"] = l.Provision
		}
		x.node(h.Addr, h.Addr, "", nil)
		x.add(&Resource{Addr: h.Addr, Kind: Host, Host: h.Addr, Attrs: a, Deps: x.deps(h.Addr, h.Network)})
	}
}

func (host) Info() Info {
	return Info{Name: Host, Order: 1, Parents: []string{"network"}, Provider: "host", Node: true,
		ForceNew: []string{"name", "network", "address", "provider", "network_cidr", "network_name", "network_gateway"}}
}

// hostSpec is a host's typed spec: where it is, its network as its
// provider needs it, and its provider's settings (ssh_*, lima_*).
type hostSpec struct {
	Name              string       `json:"name,omitzero"`
	Network           string       `json:"network,omitzero"`
	Address           netip.Addr   `json:"address,omitzero"`
	Provider          string       `json:"provider,omitzero"`
	NetworkName       string       `json:"network_name,omitzero"`
	NetworkCIDR       netip.Prefix `json:"network_cidr,omitzero"`
	NetworkGateway    netip.Addr   `json:"network_gateway,omitzero"`
	SSHUser           string       `json:"ssh_user,omitzero"`
	SSHPort           int          `json:"ssh_port,omitzero"`
	SSHPrivateKeyFile string       `json:"ssh_private_key_file,omitzero"`
	SSHHostKey        string       `json:"ssh_host_key,omitzero"`
	SSHKnownHosts     string       `json:"ssh_known_hosts,omitzero"`
	SSHNetns          string       `json:"ssh_netns,omitzero"`
	LimaCPUs          int          `json:"lima_cpus,omitzero"`
	LimaMemory        string       `json:"lima_memory,omitzero"`
	LimaDisk          string       `json:"lima_disk,omitzero"`
	LimaTemplate      string       `json:"lima_template,omitzero"`
	LimaImage         string       `json:"lima_image,omitzero"`
	LimaNetwork       string       `json:"lima_network,omitzero"`
	LimaProvision     string       `json:"lima_provision,omitzero"`
}

func hostSpecOf(addr string, a Attrs) (*hostSpec, error) {
	p := parser{a: a}
	s := &hostSpec{Name: p.str("name"), Network: p.str("network"), Address: p.addr("address"), Provider: p.opt("provider"),
		NetworkName: p.str("network_name"), NetworkCIDR: p.prefix("network_cidr"), NetworkGateway: p.addr("network_gateway"),
		SSHUser: p.opt("ssh_user"), SSHPort: p.optNum("ssh_port", 1, 65535), SSHPrivateKeyFile: p.opt("ssh_private_key_file"),
		SSHHostKey: p.opt("ssh_host_key"), SSHKnownHosts: p.opt("ssh_known_hosts"), SSHNetns: p.opt("ssh_netns"),
		LimaCPUs: p.optNum("lima_cpus", 1, 1024), LimaMemory: p.opt("lima_memory"), LimaDisk: p.opt("lima_disk"),
		LimaTemplate: p.opt("lima_template"), LimaImage: p.opt("lima_image"), LimaNetwork: p.opt("lima_network"),
		LimaProvision: p.opt("lima_provision")}
	return s, p.done(addr)
}

func (s *hostSpec) Attrs() Attrs {
	o := make(out, 20)
	o.str("name", s.Name)
	o.str("network", s.Network)
	o.addr("address", s.Address)
	o.str("provider", s.Provider)
	o.str("network_name", s.NetworkName)
	o.prefix("network_cidr", s.NetworkCIDR)
	o.addr("network_gateway", s.NetworkGateway)
	o.str("ssh_user", s.SSHUser)
	o.num("ssh_port", s.SSHPort)
	o.str("ssh_private_key_file", s.SSHPrivateKeyFile)
	o.str("ssh_host_key", s.SSHHostKey)
	o.str("ssh_known_hosts", s.SSHKnownHosts)
	o.str("ssh_netns", s.SSHNetns)
	o.num("lima_cpus", s.LimaCPUs)
	o.str("lima_memory", s.LimaMemory)
	o.str("lima_disk", s.LimaDisk)
	o.str("lima_template", s.LimaTemplate)
	o.str("lima_image", s.LimaImage)
	o.str("lima_network", s.LimaNetwork)
	o.str("lima_provision", s.LimaProvision)
	return Attrs(o)
}

func (host) Spec(addr string, a Attrs) (Spec, error) { return hostSpecOf(addr, a) }
func (host) NewSpec() Spec                           { return &hostSpec{} }

// HostOf is the provider's view of a host resource.
func HostOf(addr string, a Attrs) (provider.Host, error) {
	s, err := hostSpecOf(addr, a)
	return provider.Host{Addr: addr, Name: s.Name, Address: s.Address,
		Network: provider.Network{Addr: s.Network, Name: s.NetworkName, CIDR: s.NetworkCIDR, Gateway: s.NetworkGateway}}, err
}

func drawHosts(d *Drawing) {
	for _, h := range d.Lab.Hosts() {
		d.Hosts[h.Addr] = fmt.Sprintf("%s (%s)", h.Addr, h.Provider)
		d.shape(h.Addr, fmt.Sprintf("%s\n%s", h.Addr, h.Address), "box", h.Addr)
		d.line(h.Addr, h.Network, "eth0", false)
	}
}

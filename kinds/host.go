package kinds

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/provider"
	_ "github.com/labnet-dev/labnet/provider/all" // a host's settings are its provider's
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
		for k, v := range h.Settings {
			a[provider.SettingAttr(h.Provider, k)] = v
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
// provider needs it, and its provider's settings.
type hostSpec struct {
	hostFields
	// Settings are its provider's settings by attribute ("ssh_user"), kept
	// in the state as members of the spec beside the others (numbers as
	// numbers). The provider's registration says which exist and what
	// they hold.
	Settings map[string]jsontext.Value `json:"-"`
}

type hostFields struct {
	Name           string       `json:"name,omitzero"`
	Network        string       `json:"network,omitzero"`
	Address        netip.Addr   `json:"address,omitzero"`
	Provider       string       `json:"provider,omitzero"`
	NetworkName    string       `json:"network_name,omitzero"`
	NetworkCIDR    netip.Prefix `json:"network_cidr,omitzero"`
	NetworkGateway netip.Addr   `json:"network_gateway,omitzero"`
}

// MarshalJSON writes the fields, then the settings by name.
func (s *hostSpec) MarshalJSON() ([]byte, error) {
	b, err := jsonv2.Marshal(&s.hostFields)
	if err != nil || len(s.Settings) == 0 {
		return b, err
	}
	b = b[:len(b)-1] // the closing brace
	for _, k := range slices.Sorted(maps.Keys(s.Settings)) {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b, _ = jsontext.AppendQuote(b, k)
		b = append(append(b, ':'), s.Settings[k]...)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads the fields strictly and keeps every other member as
// a setting, for the spec's check to judge (an unknown one is named).
func (s *hostSpec) UnmarshalJSON(b []byte) error {
	var members map[string]jsontext.Value
	if err := jsonv2.Unmarshal(b, &members); err != nil {
		return err
	}
	known := map[string]jsontext.Value{}
	for k, v := range members {
		if slices.Contains(hostFieldNames, k) {
			known[k] = v
			continue
		}
		if s.Settings == nil {
			s.Settings = map[string]jsontext.Value{}
		}
		s.Settings[k] = v
	}
	kb, err := jsonv2.Marshal(known, jsonv2.Deterministic(true))
	if err != nil {
		return err
	}
	return jsonv2.Unmarshal(kb, &s.hostFields, jsonv2.RejectUnknownMembers(true))
}

var hostFieldNames = []string{"name", "network", "address", "provider", "network_name", "network_cidr", "network_gateway"}

func hostSpecOf(addr string, a Attrs) (*hostSpec, error) {
	p := parser{a: a}
	s := &hostSpec{hostFields: hostFields{Name: p.str("name"), Network: p.str("network"), Address: p.addr("address"), Provider: p.opt("provider"),
		NetworkName: p.str("network_name"), NetworkCIDR: p.prefix("network_cidr"), NetworkGateway: p.addr("network_gateway")}}
	for _, k := range slices.Sorted(maps.Keys(a)) {
		known, err := provider.CheckSetting(k, a[k])
		if !known || a[k] == "" {
			continue // p.done names an unknown one
		}
		v := p.get(k)
		if err != nil {
			p.fail(k, err)
			continue
		}
		if s.Settings == nil {
			s.Settings = map[string]jsontext.Value{}
		}
		if arg, _ := provider.Setting(k); arg.Type == provider.IntArg {
			s.Settings[k] = jsontext.Value(v)
		} else {
			s.Settings[k], _ = jsontext.AppendQuote(nil, v)
		}
	}
	return s, p.done(addr)
}

func (s *hostSpec) Attrs() Attrs {
	o := make(out, 7+len(s.Settings))
	o.str("name", s.Name)
	o.str("network", s.Network)
	o.addr("address", s.Address)
	o.str("provider", s.Provider)
	o.str("network_name", s.NetworkName)
	o.prefix("network_cidr", s.NetworkCIDR)
	o.addr("network_gateway", s.NetworkGateway)
	for k, v := range s.Settings {
		switch v.Kind() {
		case '"':
			var str string
			if jsonv2.Unmarshal(v, &str) == nil {
				o.str(k, str)
				continue
			}
		case '0':
			o.str(k, string(v))
			continue
		}
		o.str(k, "JSON "+string(v)) // not a setting's value: the check names it
	}
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

// Place: commands run in the host's own namespaces.
func (host) Place(addr string, a Attrs) (Place, error) {
	s, err := hostSpecOf(addr, a)
	if err != nil {
		return Place{}, err
	}
	return Place{Address: s.Address}, nil
}

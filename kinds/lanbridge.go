package kinds

import (
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/labnet-dev/labnet/hostnet"
)

// lanBridge: the host's LAN interface moved onto a bridge with the host's
// addresses and routes, so that bridged VMs sit on the LAN itself.
type lanBridge struct{}

func init() { register(lanBridge{}) }

func (lanBridge) Info() Info {
	return Info{Name: LanBridge, Order: 2, Parents: []string{"host"}, ForceNew: []string{"host", "ifname", "address"}}
}

// lanBridgeSpec is a host's LAN bridge's typed spec: the bridge takes
// over Address (the host's, with its LAN's prefix length).
type lanBridgeSpec struct {
	Host    string       `json:"host,omitzero"`
	Ifname  string       `json:"ifname,omitzero"`
	Address netip.Prefix `json:"address,omitzero"`
}

func lanBridgeSpecOf(addr string, a Attrs) (*lanBridgeSpec, error) {
	p := parser{a: a}
	s := &lanBridgeSpec{Host: p.str("host"), Ifname: p.name("ifname"), Address: p.prefix("address")}
	return s, p.done(addr)
}

func (s *lanBridgeSpec) Attrs() Attrs {
	o := make(out, 3)
	o.str("host", s.Host)
	o.str("ifname", s.Ifname)
	o.prefix("address", s.Address)
	return Attrs(o)
}

func (lanBridge) Spec(addr string, a Attrs) (Spec, error) { return lanBridgeSpecOf(addr, a) }
func (lanBridge) NewSpec() Spec                           { return &lanBridgeSpec{} }

func lanBridgeOf(addr string, a Attrs) (hostnet.LanBridge, error) {
	s, err := lanBridgeSpecOf(addr, a)
	return hostnet.LanBridge{Addr: addr, Ifname: s.Ifname, Address: s.Address}, err
}

// Reads every link: the uplink is whichever link holds the host address.
func (lanBridge) Reads(r *Reads, a Attrs) {
	r.Link(a["ifname"])
	r.AllLinks()
}

func (lanBridge) Judge(n hostnet.Names, addr string, a Attrs, k *hostnet.Observed, going bool) (hostnet.Verdict, error) {
	b, err := lanBridgeOf(addr, a)
	if err != nil {
		return hostnet.Verdict{}, err
	}
	br, ok := k.Links[b.Ifname]
	if !ok {
		return hostnet.Verdict{Drift: []string{"bridge " + b.Ifname + " is missing"}}, nil
	}
	var drift []string
	// The uplink is whatever the bridge holds besides labnet's own veths.
	uplink := false
	for _, l := range k.Links {
		if l.Master == b.Ifname && !strings.HasPrefix(l.Alias, "labnet:") {
			uplink = true
		}
	}
	if !uplink {
		drift = append(drift, "no LAN interface is on "+b.Ifname)
	}
	if !slices.Contains(br.Addrs, b.Address) {
		drift = append(drift, b.Ifname+" lacks the host address "+b.Address.String())
	}
	for _, l := range k.Links {
		if l.Name != b.Ifname && slices.Contains(l.Addrs, b.Address) {
			drift = append(drift, "the host address is still on "+l.Name)
		}
	}
	if !br.Up {
		drift = append(drift, b.Ifname+" is down")
	}
	sort.Strings(drift)
	return hostnet.Verdict{Exists: true, Drift: drift}, nil
}

func (lanBridge) Step(n hostnet.Names, op Op, k *hostnet.Observed) (hostnet.Step, error) {
	b, err := lanBridgeOf(op.Addr, op.Attrs())
	if err != nil {
		return hostnet.Step{}, err
	}
	if op.Delete {
		return hostnet.Step{Shell: b.RestoreShell(n)}, nil
	}
	var s hostnet.Step
	if !op.Update {
		s.Batch = b.CreateBatch(n)
	}
	s.Shell = b.MoveShell(n)
	return s, nil
}

package kinds

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/labnet-dev/labnet/hostnet"
)

// podNet: a host's share of a flat pod network: cni0 with the host's pod
// subnet and, for vxlan, a flannel-style device with an entry per peer.
type podNet struct{}

func init() {
	register(podNet{})
	expands(phaseUnderlay, expandPodNetworks)
	draws(5, drawPodNetworks)
}

// expandPodNetworks: every cluster host gets cni0 with its subnet's first
// address and, for vxlan, a flannel-style device; each knows every other
// host's subnet, address and VTEP MAC.
func expandPodNetworks(x *Expansion) {
	for _, pn := range x.Lab.PodNetworks() {
		var nodeAddrs []netip.Addr
		for _, h := range pn.Hosts {
			nodeAddrs = append(nodeAddrs, x.host(h).Address)
		}
		for _, h := range pn.Hosts {
			hh := x.host(h)
			var peers []string
			for _, o := range pn.Hosts {
				if o == h {
					continue
				}
				mac := ""
				if pn.Backend == "vxlan" {
					mac = hostnet.VtepMAC(x.Lab.Name, x.host(o).Name, pn.VNI)
				}
				peers = append(peers, hostnet.Peer{Subnet: pn.Subnets[o], Host: x.host(o).Address, MAC: mac}.String())
			}
			sort.Strings(peers)
			a := Attrs{
				"host": h, "network": pn.Addr, "backend": pn.Backend, "bridge": PodBridgeIfname, "subnet": pn.Subnets[h].String(),
				"cluster": pn.CIDR.String(), "local": hh.Address.String(), "peers": strings.Join(peers, " "),
			}
			if pn.Backend == "vxlan" {
				a["vxlan"], a["vni"], a["port"] = fmt.Sprintf("flannel.%d", pn.VNI), strconv.Itoa(pn.VNI), strconv.Itoa(pn.Port)
				a["mac"], a["mtu"] = hostnet.VtepMAC(x.Lab.Name, hh.Name, pn.VNI), strconv.Itoa(VxlanMTU)
			}
			x.add(&Resource{Addr: PodNetAddr(hh.Name), Kind: PodNet, Host: h, Attrs: a, Deps: []string{h}})
			// Pod traffic stays unNATed inside the cluster (pods and nodes);
			// only what leaves it is masqueraded.
			owner := PodNetAddr(hh.Name)
			sub := pn.Subnets[h]
			x.rule(h, hostnet.NatRule{Owner: owner, Kind: "accept", Source: sub, Dest: pn.CIDR})
			for _, na := range nodeAddrs {
				x.rule(h, hostnet.NatRule{Owner: owner, Kind: "accept", Source: sub, Dest: netip.PrefixFrom(na, 32)})
			}
			x.rule(h, hostnet.NatRule{Owner: owner, Kind: "masquerade", Source: sub})
		}
	}
}

func (podNet) Info() Info {
	return Info{Name: PodNet, Order: 4, Parents: []string{"host"},
		ForceNew: []string{"host", "network", "backend", "bridge", "subnet", "vxlan", "vni", "port", "local", "mac", "mtu"}}
}

// podNetSpec is a host's share of a pod network's typed spec. The vxlan
// device's attributes are there with the vxlan backend only.
type podNetSpec struct {
	Host    string       `json:"host,omitzero"`
	Network string       `json:"network,omitzero"`
	Backend string       `json:"backend,omitzero"` // vxlan or host-gw
	Bridge  string       `json:"bridge,omitzero"`
	Subnet  netip.Prefix `json:"subnet,omitzero"`  // this host's
	Cluster netip.Prefix `json:"cluster,omitzero"` // the whole pod network's
	Vxlan   string       `json:"vxlan,omitzero"`
	VNI     int          `json:"vni,omitzero"`
	Port    int          `json:"port,omitzero"`
	Local   netip.Addr   `json:"local,omitzero"`
	MAC     string       `json:"mac,omitzero"`
	MTU     int          `json:"mtu,omitzero"`
	Peers   []peer       `json:"peers,omitempty"`
}

// peer is a hostnet.Peer with the state file's member names; it converts
// to and from one (see natRule).
type peer struct {
	Subnet netip.Prefix `json:"subnet,omitzero"` // pod networks only
	Host   netip.Addr   `json:"host,omitzero"`
	MAC    string       `json:"mac,omitzero"` // vxlan pod networks only
}

// peersOf, peersAttr and hostnetPeers convert between a spec's peers,
// the "peers" attribute and hostnet's.
func peersOf(ps []hostnet.Peer) []peer {
	if len(ps) == 0 {
		return nil
	}
	out := make([]peer, len(ps))
	for i, p := range ps {
		out[i] = peer(p)
	}
	return out
}

func peersAttr(ps []peer) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(hostnet.Peer(p).String())
	}
	return b.String()
}

func hostnetPeers(ps []peer) []hostnet.Peer {
	if len(ps) == 0 {
		return nil
	}
	out := make([]hostnet.Peer, len(ps))
	for i, p := range ps {
		out[i] = hostnet.Peer(p)
	}
	return out
}

func podNetSpecOf(addr string, a Attrs) (*podNetSpec, error) {
	p := parser{a: a}
	s := &podNetSpec{Host: p.str("host"), Network: p.str("network"), Backend: p.str("backend"), Bridge: p.name("bridge"),
		Subnet: p.prefix("subnet"), Cluster: p.prefix("cluster"), Local: p.addr("local"), Peers: peersOf(p.peers("peers"))}
	switch s.Backend {
	case "vxlan":
		s.Vxlan, s.VNI, s.Port = p.name("vxlan"), p.num("vni", 1, 1<<24-1), p.num("port", 1, 65535)
		s.MAC, s.MTU = p.str("mac"), p.num("mtu", 68, 65535)
	case "host-gw":
	default:
		p.fail("backend", fmt.Errorf("not vxlan or host-gw"))
	}
	return s, p.done(addr)
}

func (s *podNetSpec) Attrs() Attrs {
	o := make(out, 13)
	o.str("host", s.Host)
	o.str("network", s.Network)
	o.str("backend", s.Backend)
	o.str("bridge", s.Bridge)
	o.prefix("subnet", s.Subnet)
	o.prefix("cluster", s.Cluster)
	o.str("vxlan", s.Vxlan)
	o.num("vni", s.VNI)
	o.num("port", s.Port)
	o.addr("local", s.Local)
	o.str("mac", s.MAC)
	o.num("mtu", s.MTU)
	o.str("peers", peersAttr(s.Peers))
	return Attrs(o)
}

func (podNet) Spec(addr string, a Attrs) (Spec, error) { return podNetSpecOf(addr, a) }
func (podNet) NewSpec() Spec                           { return &podNetSpec{} }

func podNetOf(addr string, a Attrs) (hostnet.PodNet, error) {
	s, err := podNetSpecOf(addr, a)
	return hostnet.PodNet{Addr: addr, Backend: s.Backend, Bridge: s.Bridge, Subnet: s.Subnet, Local: s.Local, Peers: hostnetPeers(s.Peers),
		Vxlan: s.Vxlan, VNI: s.VNI, Port: s.Port, MAC: s.MAC, MTU: s.MTU}, err
}

func (podNet) Reads(r *Reads, a Attrs) {
	r.Link(a["bridge"])
	r.Routes()
	if a["backend"] == "vxlan" {
		r.Link(a["vxlan"])
		r.Neigh()
		r.Fdb(a["vxlan"])
	}
}

func (podNet) Judge(n hostnet.Names, addr string, a Attrs, k *hostnet.Observed, going bool) (hostnet.Verdict, error) {
	return judge(podNetOf, n, addr, a, k)
}

func (podNet) Step(n hostnet.Names, op Op, k *hostnet.Observed) (hostnet.Step, error) {
	p, err := podNetOf(op.Addr, op.Attrs())
	if err != nil {
		return hostnet.Step{}, err
	}
	if op.Delete {
		return hostnet.Step{Batch: p.DeleteBatch()}, nil
	}
	gone, err := gonePeers(op)
	if err != nil {
		return hostnet.Step{}, err
	}
	var s hostnet.Step
	if op.Update {
		s.Batch = p.RepairBatch(n, p.RemakeVxlan(k), gone)
	} else {
		s.Batch = p.CreateBatch(n)
	}
	s.Shell = p.PeerShell(gone)
	return s, nil
}

// gonePeers are the peers an update removes.
func gonePeers(op Op) ([]hostnet.Peer, error) {
	if op.Before == nil || !op.Update {
		return nil, nil
	}
	before, err := hostnet.ParsePeers(op.Before["peers"])
	if err != nil {
		return nil, fmt.Errorf("%s: attribute \"peers\": %w", op.Addr, err)
	}
	after, err := hostnet.ParsePeers(op.After["peers"])
	if err != nil {
		return nil, fmt.Errorf("%s: attribute \"peers\": %w", op.Addr, err)
	}
	now := map[string]bool{}
	for _, p := range after {
		now[p.String()] = true
	}
	var gone []hostnet.Peer
	for _, p := range before {
		if !now[p.String()] {
			gone = append(gone, p)
		}
	}
	return gone, nil
}

func drawPodNetworks(d *Drawing) {
	for _, pn := range d.Lab.PodNetworks() {
		hosts := pn.Hosts
		for _, h := range hosts {
			cni := "cni0@" + h
			d.shape(cni, fmt.Sprintf("cni0\n%s", pn.Subnets[h]), "hexagon", h)
			d.line(cni, h, "", false)
		}
		for i := range hosts {
			for j := i + 1; j < len(hosts); j++ {
				label := "host-gw"
				if pn.Backend == "vxlan" {
					label = fmt.Sprintf("vxlan vni %d", pn.VNI)
				}
				d.line(hosts[i], hosts[j], label, true)
			}
		}
	}
}

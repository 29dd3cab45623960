package kinds

import (
	"fmt"

	"github.com/labnet-dev/labnet/hostnet"
)

// podNet: a host's share of a flat pod network: cni0 with the host's pod
// subnet and, for vxlan, a flannel-style device with an entry per peer.
type podNet struct{}

func init() { register(podNet{}) }

func (podNet) Info() Info {
	return Info{Name: PodNet, Order: 4, Parents: []string{"host"},
		ForceNew: []string{"host", "network", "backend", "bridge", "subnet", "vxlan", "vni", "port", "local", "mac", "mtu"}}
}

func podNetOf(addr string, a Attrs) (hostnet.PodNet, error) {
	p := parser{a: a}
	pn := hostnet.PodNet{Addr: addr, Backend: p.str("backend"), Bridge: p.name("bridge"), Subnet: p.prefix("subnet"),
		Local: p.addr("local"), Peers: p.peers("peers")}
	switch pn.Backend {
	case "vxlan":
		pn.Vxlan, pn.VNI, pn.Port = p.name("vxlan"), p.num("vni", 1, 1<<24-1), p.num("port", 1, 65535)
		pn.MAC, pn.MTU = p.str("mac"), p.num("mtu", 68, 65535)
	case "host-gw":
	default:
		p.fail("backend", fmt.Errorf("not vxlan or host-gw"))
	}
	return pn, p.done(addr)
}

func (podNet) Check(addr string, a Attrs) error { _, err := podNetOf(addr, a); return err }

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

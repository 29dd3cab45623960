package hostnet

import (
	"crypto/sha256"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// LanBridge puts the host's LAN interface on a bridge and moves the host's
// address to the bridge, as bridged VM networking does, so guests on the
// bridge sit on the LAN itself.
type LanBridge struct {
	Addr    string
	Ifname  string // the bridge
	Uplink  string // the host's LAN interface
	Address netip.Prefix
	Gateway netip.Addr // default route after the move; invalid for none
}

func (b LanBridge) CreateBatch(n Names) []string {
	l := []string{
		fmt.Sprintf("link add name %s type bridge", b.Ifname),
		fmt.Sprintf("link set dev %s alias %s", b.Ifname, n.Alias(b.Addr)),
		fmt.Sprintf("link set dev %s up", b.Ifname),
	}
	return append(l, b.MoveBatch()...)
}

// MoveBatch moves the address from the uplink to the bridge (idempotent
// for the bridge side: "replace"; the delete fails only when there is
// nothing to move).
func (b LanBridge) MoveBatch() []string {
	l := []string{
		fmt.Sprintf("link set dev %s master %s", b.Uplink, b.Ifname),
		fmt.Sprintf("addr replace %s dev %s", b.Address, b.Ifname),
	}
	if b.Gateway.IsValid() {
		l = append(l, fmt.Sprintf("route replace default via %s dev %s", b.Gateway, b.Ifname))
	}
	return l
}

// MoveShell removes the address from the uplink if it is still there; run
// after MoveBatch.
func (b LanBridge) MoveShell() string {
	return fmt.Sprintf("if ip -4 -o addr show dev %s | grep -q ' %s '; then ip addr del %s dev %s; fi", b.Uplink, b.Address, b.Address, b.Uplink)
}

// DeleteBatch moves the address back to the uplink and removes the bridge.
func (b LanBridge) DeleteBatch() []string {
	l := []string{
		fmt.Sprintf("link set dev %s nomaster", b.Uplink),
		fmt.Sprintf("addr replace %s dev %s", b.Address, b.Uplink),
	}
	if b.Gateway.IsValid() {
		l = append(l, fmt.Sprintf("route replace default via %s dev %s", b.Gateway, b.Uplink))
	}
	return append(l, fmt.Sprintf("link del dev %s", b.Ifname))
}

// Peer is another host of an overlay: its pod subnet (pod networks), its
// LAN address and its VTEP MAC.
type Peer struct {
	Subnet netip.Prefix // pod networks only
	Host   netip.Addr
	MAC    string // vxlan pod networks only
}

func (p Peer) String() string {
	if p.Subnet.IsValid() {
		return fmt.Sprintf("%s=%s=%s", p.Subnet, p.Host, p.MAC)
	}
	return p.Host.String()
}

// ParsePeers reads Peer.String() values separated by spaces.
func ParsePeers(s string) []Peer {
	var out []Peer
	for _, f := range strings.Fields(s) {
		parts := strings.Split(f, "=")
		var p Peer
		if len(parts) == 3 {
			p.Subnet, _ = netip.ParsePrefix(parts[0])
			p.Host, _ = netip.ParseAddr(parts[1])
			p.MAC = parts[2]
		} else {
			p.Host, _ = netip.ParseAddr(parts[0])
		}
		out = append(out, p)
	}
	return out
}

// VtepMAC is the deterministic MAC of a host's VTEP: every host can write
// the others' neighbour and fdb entries without asking them (flannel
// publishes it through its store instead). Locally administered, unicast.
func VtepMAC(lab, host string, vni int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%d", lab, host, vni)))
	mac := net.HardwareAddr{sum[0]&0xfe | 0x02, sum[1], sum[2], sum[3], sum[4], sum[5]}
	return mac.String()
}

// PodNet is one host's share of a flat pod network: the cni0 bridge with
// the subnet's first address, and for vxlan a flannel-style device.
type PodNet struct {
	Addr    string
	Backend string // "vxlan" or "host-gw"
	Bridge  string // "cni0"
	Subnet  netip.Prefix
	Vxlan   string // "flannel.<vni>"
	VNI     int
	Port    int
	Local   netip.Addr // this host's LAN address: the VTEP address, set explicitly
	MAC     string
	MTU     int
	Peers   []Peer
}

func (p PodNet) gatewayPrefix() string {
	a := p.Subnet.Addr().Next()
	return fmt.Sprintf("%s/%d", a, p.Subnet.Bits())
}

func (p PodNet) CreateBatch(n Names) []string {
	l := []string{
		fmt.Sprintf("link add name %s type bridge", p.Bridge),
		fmt.Sprintf("link set dev %s alias %s", p.Bridge, n.Alias(p.Addr)),
		fmt.Sprintf("addr add %s dev %s", p.gatewayPrefix(), p.Bridge),
		fmt.Sprintf("link set dev %s up", p.Bridge),
	}
	if p.Backend == "vxlan" {
		l = append(l,
			fmt.Sprintf("link add name %s type vxlan id %d local %s dstport %d nolearning", p.Vxlan, p.VNI, p.Local, p.Port),
			fmt.Sprintf("link set dev %s address %s mtu %d alias %s", p.Vxlan, p.MAC, p.MTU, n.Alias(p.Addr)),
			fmt.Sprintf("addr add %s/32 dev %s", p.Subnet.Addr(), p.Vxlan),
			fmt.Sprintf("link set dev %s up", p.Vxlan),
		)
	}
	return append(l, p.PeerBatch(nil)...)
}

// PeerBatch writes the entries for every peer and removes those of peers
// that are gone. Per remote host, in flannel's order: the neighbour entry,
// (the fdb entry, in PeerShell) and the onlink route; host-gw: a route via
// the peer's LAN address.
func (p PodNet) PeerBatch(gone []Peer) []string {
	var l []string
	for _, g := range gone {
		if p.Backend == "vxlan" {
			l = append(l, fmt.Sprintf("neigh del %s dev %s", g.Subnet.Addr(), p.Vxlan))
		}
		l = append(l, fmt.Sprintf("route del %s", g.Subnet))
	}
	for _, peer := range p.Peers {
		if p.Backend == "vxlan" {
			l = append(l,
				fmt.Sprintf("neigh replace %s lladdr %s dev %s nud permanent", peer.Subnet.Addr(), peer.MAC, p.Vxlan),
				// src: the node speaks to remote pods from its own address
				// (flannel would let the kernel pick flannel.1's), so a
				// node's traffic looks the same with both backends.
				fmt.Sprintf("route replace %s via %s dev %s onlink src %s", peer.Subnet, peer.Subnet.Addr(), p.Vxlan, p.Local))
		} else {
			l = append(l, fmt.Sprintf("route replace %s via %s", peer.Subnet, peer.Host))
		}
	}
	return l
}

// PeerShell writes the fdb entries (bridge(8), not ip(8)).
func (p PodNet) PeerShell(gone []Peer) string {
	if p.Backend != "vxlan" || len(p.Peers)+len(gone) == 0 {
		return ""
	}
	var l []string
	for _, g := range gone {
		l = append(l, fmt.Sprintf("fdb del %s dev %s dst %s", g.MAC, p.Vxlan, g.Host))
	}
	for _, peer := range p.Peers {
		l = append(l, fmt.Sprintf("fdb replace %s dev %s dst %s", peer.MAC, p.Vxlan, peer.Host))
	}
	return "bridge -force -batch - <<'LABNET_FDB'\n" + strings.Join(l, "\n") + "\nLABNET_FDB"
}

func (p PodNet) DeleteBatch() []string {
	l := []string{fmt.Sprintf("link del dev %s", p.Bridge)}
	if p.Backend == "vxlan" {
		l = append(l, fmt.Sprintf("link del dev %s", p.Vxlan))
	} else {
		for _, peer := range p.Peers {
			l = append(l, fmt.Sprintf("route del %s", peer.Subnet))
		}
	}
	return l
}

// SegmentLink is one host's port into a tenant segment: a bridge and a
// VXLAN device with head-end replication to every other host of it.
type SegmentLink struct {
	Addr   string
	Bridge string
	Vxlan  string
	VNI    int
	Port   int
	Local  netip.Addr
	MTU    int
	Peers  []Peer
}

func (s SegmentLink) CreateBatch(n Names) []string {
	return []string{
		fmt.Sprintf("link add name %s type bridge", s.Bridge),
		fmt.Sprintf("link set dev %s alias %s", s.Bridge, n.Alias(s.Addr)),
		fmt.Sprintf("link set dev %s up", s.Bridge),
		fmt.Sprintf("link add name %s type vxlan id %d local %s dstport %d", s.Vxlan, s.VNI, s.Local, s.Port),
		fmt.Sprintf("link set dev %s mtu %d alias %s master %s", s.Vxlan, s.MTU, n.Alias(s.Addr), s.Bridge),
		fmt.Sprintf("link set dev %s up", s.Vxlan),
	}
}

// PeerShell floods unknown and broadcast frames to every other host.
func (s SegmentLink) PeerShell(gone []Peer) string {
	var l []string
	for _, g := range gone {
		l = append(l, fmt.Sprintf("fdb del 00:00:00:00:00:00 dev %s dst %s", s.Vxlan, g.Host))
	}
	for _, p := range s.Peers {
		l = append(l, fmt.Sprintf("fdb append 00:00:00:00:00:00 dev %s dst %s", s.Vxlan, p.Host))
	}
	if len(l) == 0 {
		return ""
	}
	return "bridge -force -batch - <<'LABNET_FDB'\n" + strings.Join(l, "\n") + "\nLABNET_FDB"
}

func (s SegmentLink) DeleteBatch() []string {
	return []string{fmt.Sprintf("link del dev %s", s.Vxlan), fmt.Sprintf("link del dev %s", s.Bridge)}
}

// NIC is a guest's extra interface on a tenant segment: a veth whose end
// inside the guest is eth1 (eth2, ...) and whose host end is a port of the
// segment's bridge.
type NIC struct {
	Addr     string
	Netns    string
	Ifname   string
	HostVeth string
	Bridge   string
	Address  netip.Prefix
	MTU      int
}

func (c NIC) CreateBatch(n Names) []string {
	return []string{
		fmt.Sprintf("link add name %s type veth peer name %s address %s netns %s", c.HostVeth, c.Ifname, n.GuestMAC(c.Addr), c.Netns),
		fmt.Sprintf("link set dev %s alias %s", c.HostVeth, n.Alias(c.Addr)),
		fmt.Sprintf("link set dev %s mtu %d master %s up", c.HostVeth, c.MTU, c.Bridge),
	}
}

// RepairBatch fixes the host end of an existing NIC.
func (c NIC) RepairBatch(n Names) []string {
	return []string{
		fmt.Sprintf("link set dev %s alias %s", c.HostVeth, n.Alias(c.Addr)),
		fmt.Sprintf("link set dev %s mtu %d master %s up", c.HostVeth, c.MTU, c.Bridge),
	}
}

func (c NIC) DeleteBatch() []string {
	return []string{fmt.Sprintf("link del dev %s", c.HostVeth)}
}

package hostnet

import (
	"crypto/sha256"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/labnet-dev/labnet/remote"
)

// LanBridge puts the host's LAN interface on a bridge and moves the host's
// addresses and routes to the bridge, as bridged VM networking does, so
// guests on the bridge sit on the LAN itself.
//
// The LAN interface is found on the host, not named in the lab: it is the
// interface that holds the host's lab address (eth0 on netns hosts, often
// something else on existing machines; on Lima's user-v2 network eth0, the
// VM's only NIC, which also carries SSH). Everything that
// interface carried moves with it (every global IPv4 address, every route
// but the kernel's own, its MAC), so moving it never cuts the host off, and
// its name is kept in the lab's run directory on the host so that deleting
// the bridge, or sweeping a lab whose state is lost, puts all of it back.
type LanBridge struct {
	Addr    string
	Ifname  string       // the bridge
	Address netip.Prefix // the host's lab address
}

func (b LanBridge) CreateBatch(n Names) []string {
	return []string{
		fmt.Sprintf("link add name %s type bridge", b.Ifname),
		fmt.Sprintf("link set dev %s alias %s", b.Ifname, n.Alias(b.Addr)),
		fmt.Sprintf("link set dev %s up", b.Ifname),
	}
}

// UplinkFile is where the name of the interface moved onto the bridge is
// kept on the host.
func UplinkFile(n Names, bridge string) string {
	return n.RunDir() + "/" + bridge + ".uplink"
}

// MoveShell moves the interface holding the host address onto the bridge
// with its addresses and routes; when the address is on the bridge already
// it only puts a detached uplink back. Runs after CreateBatch.
func (b LanBridge) MoveShell(n Names) string {
	f, br, a := remote.Quote(UplinkFile(n, b.Ifname)), b.Ifname, b.Address.Addr().String()
	return strings.Join([]string{
		fmt.Sprintf("up=$(ip -o -4 addr show | awk -v a=%s/ '$2 != \"%s\" && index($4, a) == 1 {print $2; exit}')", a, br),
		"if [ -n \"$up\" ]; then",
		fmt.Sprintf("  mkdir -p %s && printf '%%s\\n' \"$up\" >%s", remote.Quote(n.RunDir()), f),
		moveShell(`"$up"`, br, true),
		fmt.Sprintf("elif [ -f %s ] && up=$(cat %s) && [ -n \"$up\" ]; then", f, f),
		fmt.Sprintf("  ip link set dev \"$up\" master %s", br),
		"else",
		fmt.Sprintf("  echo 'no interface on the host holds its address %s' >&2; false", a),
		"fi",
		// The LAN hears that the address now leaves through the bridge.
		fmt.Sprintf("if ip -o -4 addr show dev %s | grep -q ' %s/'; then %s; else echo '%s lacks the host address %s' >&2; false; fi",
			br, a, AnnounceShell(br, b.Address.Addr()), br, a),
	}, "\n")
}

// AnnounceShell sends a gratuitous ARP for addr from the host's link dev
// (see netlink.py's announce); a host without python3 goes without.
func AnnounceShell(dev string, addr netip.Addr) string {
	return fmt.Sprintf("python3 -I -S -c %s %s %s 2>/dev/null || true", remote.Quote(announcePy), remote.Quote(dev), addr)
}

var announcePy = netlinkPy + "\nAnnouncer().send(sys.argv[1], sys.argv[2])\n"

// RestoreShell moves the uplink's addresses and routes back from the
// bridge and deletes the bridge.
func (b LanBridge) RestoreShell(n Names) string {
	return restoreShell(n, b.Ifname, true) + "\nip link del dev " + b.Ifname
}

// LanBridgeRestoreShell gives the uplink of a bridge known only by name
// (a sweep of a lab whose state is lost) its addresses and routes back, if
// the lab's run directory says the bridge holds one; the bridge stays.
func LanBridgeRestoreShell(n Names, bridge string) string {
	return restoreShell(n, bridge, false)
}

// restoreShell: guess, for a bridge known to be a LanBridge, finds its
// uplink without the file too (a bridge made before labnet kept it): the
// port that is not a guest's veth (ln + 10 hex digits).
func restoreShell(n Names, bridge string, guess bool) string {
	f, br := remote.Quote(UplinkFile(n, bridge)), remote.Quote(bridge)
	find := fmt.Sprintf("up=$(cat %s 2>/dev/null)", f)
	if guess {
		find += fmt.Sprintf(" || up=$(ip -br link show master %s 2>/dev/null | awk '{sub(/@.*/, \"\", $1); if (!(length($1) == 12 && $1 ~ /^ln[0-9a-f]+$/)) {print $1; exit}}')", br)
	}
	return strings.Join([]string{
		find,
		"if [ -n \"$up\" ] && ip link show dev \"$up\" >/dev/null 2>&1; then",
		"  ip link set dev \"$up\" nomaster",
		moveShell(br, `"$up"`, false),
		"fi",
		fmt.Sprintf("rm -f %s", f),
	}, "\n")
}

// moveShell moves every global IPv4 address and every route but the
// kernel's own from one interface to another (shell words); toBridge: from
// is the uplink, which goes onto the bridge, and the bridge takes its MAC
// (the LAN knows the host by it). Flushing before adding leaves no moment
// with one address on two interfaces.
func moveShell(from, to string, toBridge bool) string {
	l := []string{
		fmt.Sprintf("rt=$(ip -4 route show dev %s | grep -v ' proto kernel ' | sed 's/ linkdown//; s/ dead//')", from),
		fmt.Sprintf("ad=$(ip -o -4 addr show dev %s scope global | awk '{print $4}')", from),
	}
	if toBridge {
		l = append(l, fmt.Sprintf("ip link set dev %s address \"$(ip -br link show dev \"$up\" | awk '{print $3}')\"", to),
			fmt.Sprintf("ip link set dev %s master %s", from, to))
	}
	l = append(l,
		fmt.Sprintf("ip -4 addr flush dev %s scope global", from),
		fmt.Sprintf("for x in $ad; do ip addr replace \"$x\" dev %s; done", to),
		fmt.Sprintf("printf '%%s\\n' \"$rt\" | while read -r r; do [ -z \"$r\" ] || ip route replace $r dev %s; done", to),
	)
	return "  " + strings.Join(l, "\n  ")
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
func ParsePeers(s string) ([]Peer, error) {
	var out []Peer
	for _, f := range strings.Fields(s) {
		parts := strings.Split(f, "=")
		var p Peer
		var err error
		switch len(parts) {
		case 3:
			if p.Subnet, err = netip.ParsePrefix(parts[0]); err == nil {
				if p.Host, err = netip.ParseAddr(parts[1]); err == nil {
					if p.MAC = parts[2]; p.MAC != "" { // none with host-gw
						_, err = net.ParseMAC(p.MAC)
					}
				}
			}
		case 1:
			p.Host, err = netip.ParseAddr(parts[0])
		default:
			err = fmt.Errorf("not HOST or SUBNET=HOST=MAC")
		}
		if err != nil {
			return out, fmt.Errorf("peer %q: %w", f, err)
		}
		out = append(out, p)
	}
	return out, nil
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

// bridgeMTU: cni0 carries the pods' traffic, which fits the VXLAN device.
func (p PodNet) bridgeMTU() int {
	if p.Backend == "vxlan" {
		return p.MTU
	}
	return DefaultMTU
}

func (p PodNet) CreateBatch(n Names) []string {
	l := []string{
		BridgeAdd(p.Bridge, n.MAC(p.Addr), p.bridgeMTU()),
		fmt.Sprintf("link set dev %s alias %s", p.Bridge, n.Alias(p.Addr)),
		fmt.Sprintf("addr add %s dev %s", p.gatewayPrefix(), p.Bridge),
		fmt.Sprintf("link set dev %s up", p.Bridge),
	}
	if p.Backend == "vxlan" {
		l = append(l, p.vxlanAdd(n)...)
	}
	return append(l, p.PeerBatch(nil)...)
}

func (p PodNet) vxlan() VxlanInfo {
	return VxlanInfo{VNI: p.VNI, Port: p.Port, Local: p.Local, Learning: false}
}

func (p PodNet) vxlanAdd(n Names) []string {
	return []string{
		fmt.Sprintf("link add name %s type vxlan id %d local %s dstport %d nolearning", p.Vxlan, p.VNI, p.Local, p.Port),
		fmt.Sprintf("link set dev %s address %s mtu %d alias %s", p.Vxlan, p.MAC, p.MTU, n.Alias(p.Addr)),
		fmt.Sprintf("addr add %s/32 dev %s", p.Subnet.Addr(), p.Vxlan),
		fmt.Sprintf("link set dev %s up", p.Vxlan),
	}
}

// vxlanDrift: what of a VXLAN device only remaking it changes (the kernel
// cannot change a device's VNI, port, local address or learning), and
// what an update can set.
func vxlanDrift(l Link, ok bool, want VxlanInfo) (remake []string) {
	switch {
	case !ok:
		return []string{"vxlan device " + l.Name + " is missing"}
	case l.Kind != "vxlan" || l.Vxlan == nil:
		return []string{fmt.Sprintf("%s is a %q link, not a vxlan device", l.Name, l.Kind)}
	}
	got := *l.Vxlan
	if got.VNI != want.VNI {
		remake = append(remake, fmt.Sprintf("%s has VNI %d, wants %d", l.Name, got.VNI, want.VNI))
	}
	if got.Port != want.Port {
		remake = append(remake, fmt.Sprintf("%s has UDP port %d, wants %d", l.Name, got.Port, want.Port))
	}
	if got.Local != want.Local {
		remake = append(remake, fmt.Sprintf("%s has local address %v, wants %s", l.Name, got.Local, want.Local))
	}
	if got.Remote != want.Remote {
		remake = append(remake, fmt.Sprintf("%s has remote %v, wants %v", l.Name, got.Remote, want.Remote))
	}
	if got.Learning != want.Learning {
		remake = append(remake, fmt.Sprintf("%s has learning %v, wants %v", l.Name, got.Learning, want.Learning))
	}
	return remake
}

// RemakeVxlan says whether an update must delete and remake the VXLAN
// device (it is missing, or differs in what cannot be changed in place).
func (p PodNet) RemakeVxlan(k *Observed) bool {
	return p.Backend == "vxlan" && remakeVxlan(k, p.Vxlan, p.vxlan())
}

func remakeVxlan(k *Observed, name string, want VxlanInfo) bool {
	if k == nil {
		return false
	}
	l, ok := k.Links[name]
	l.Name = name
	return len(vxlanDrift(l, ok, want)) > 0
}

// Judge compares the host's share of the pod network with what
// CreateBatch, PeerBatch and PeerShell make. cni0 gone is a replacement
// (the pods' veths went with it); everything else, the VXLAN device
// included, is repaired in place by RepairBatch.
func (p PodNet) Judge(n Names, k *Observed) Verdict {
	v, br, ok := judgeBridge(n, k, p.Bridge, p.Addr, p.bridgeMTU())
	if !ok {
		return v
	}
	if gw := netip.MustParsePrefix(p.gatewayPrefix()); !slices.Contains(br.Addrs, gw) {
		v.Drift = append(v.Drift, p.Bridge+" lacks "+gw.String())
	}
	vx := p.Vxlan
	if p.Backend == "vxlan" {
		l, ok := k.Links[vx]
		l.Name = vx
		remake := vxlanDrift(l, ok, p.vxlan())
		v.Drift = append(v.Drift, remake...)
		if ok && len(remake) == 0 {
			if l.Alias != n.Alias(p.Addr) {
				v.Drift = append(v.Drift, fmt.Sprintf("%s is not marked as labnet's (alias %q)", vx, l.Alias))
			}
			v.Drift = append(v.Drift, linkDrift(l, vx, p.MTU, p.MAC)...)
			if want := netip.PrefixFrom(p.Subnet.Addr(), 32); !slices.Contains(l.Addrs, want) {
				v.Drift = append(v.Drift, vx+" lacks "+want.String())
			}
		}
	}
	for _, peer := range p.Peers {
		if p.Backend == "vxlan" {
			if !k.HasNeigh(peer.Subnet.Addr(), peer.MAC, vx) {
				v.Drift = append(v.Drift, "neighbour "+peer.Subnet.Addr().String()+" lladdr "+peer.MAC+" is missing")
			}
			if !k.HasFdb(vx, peer.MAC, peer.Host) {
				v.Drift = append(v.Drift, "fdb "+peer.MAC+" dst "+peer.Host.String()+" is missing")
			}
			if !k.HasRoute(peer.Subnet, peer.Subnet.Addr(), vx) {
				v.Drift = append(v.Drift, "route "+peer.Subnet.String()+" via "+vx+" is missing")
			}
		} else if !k.HasRoute(peer.Subnet, peer.Host, "") {
			v.Drift = append(v.Drift, "route "+peer.Subnet.String()+" via "+peer.Host.String()+" is missing")
		}
	}
	return v
}

// RepairBatch puts an existing share back in shape: cni0's properties,
// the VXLAN device's (remade when remake), then every peer's entries
// (PeerShell writes their fdb entries).
func (p PodNet) RepairBatch(n Names, remake bool, gone []Peer) []string {
	l := []string{
		fmt.Sprintf("link set dev %s address %s mtu %d alias %s up", p.Bridge, n.MAC(p.Addr), p.bridgeMTU(), n.Alias(p.Addr)),
		fmt.Sprintf("addr replace %s dev %s", p.gatewayPrefix(), p.Bridge),
	}
	if p.Backend == "vxlan" {
		if remake {
			// -force goes past "Cannot find device" when it is missing.
			l = append(append(l, "link del dev "+p.Vxlan), p.vxlanAdd(n)...)
		} else {
			l = append(l,
				fmt.Sprintf("link set dev %s address %s mtu %d alias %s up", p.Vxlan, p.MAC, p.MTU, n.Alias(p.Addr)),
				fmt.Sprintf("addr replace %s/32 dev %s", p.Subnet.Addr(), p.Vxlan))
		}
	}
	return append(l, p.PeerBatch(gone)...)
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
	return append([]string{
		BridgeAdd(s.Bridge, n.MAC(s.Addr), s.MTU),
		fmt.Sprintf("link set dev %s alias %s", s.Bridge, n.Alias(s.Addr)),
		fmt.Sprintf("link set dev %s up", s.Bridge),
	}, s.vxlanAdd(n)...)
}

func (s SegmentLink) vxlanAdd(n Names) []string {
	return []string{
		fmt.Sprintf("link add name %s type vxlan id %d local %s dstport %d", s.Vxlan, s.VNI, s.Local, s.Port),
		fmt.Sprintf("link set dev %s mtu %d alias %s master %s", s.Vxlan, s.MTU, n.Alias(s.Addr), s.Bridge),
		fmt.Sprintf("link set dev %s up", s.Vxlan),
	}
}

// The segment's VXLAN device learns the members' MACs (the kernel's default).
func (s SegmentLink) vxlan() VxlanInfo {
	return VxlanInfo{VNI: s.VNI, Port: s.Port, Local: s.Local, Learning: true}
}

// RemakeVxlan: see PodNet.RemakeVxlan.
func (s SegmentLink) RemakeVxlan(k *Observed) bool {
	return remakeVxlan(k, s.Vxlan, s.vxlan())
}

// Judge compares the host's port into the segment with what CreateBatch
// and PeerShell make. The bridge gone is a replacement (the members'
// veths went with it); the VXLAN device is remade or repaired in place.
func (s SegmentLink) Judge(n Names, k *Observed) Verdict {
	br, brOK := k.Links[s.Bridge]
	vx, vxOK := k.Links[s.Vxlan]
	if !brOK && !vxOK {
		return Verdict{Drift: []string{"bridge " + s.Bridge + " is missing"}}
	}
	v := Verdict{Exists: true}
	if !brOK {
		return Verdict{Exists: true, Unrepairable: true, Drift: []string{"bridge " + s.Bridge + " is missing"}}
	}
	if br.Alias != n.Alias(s.Addr) {
		v.Drift = append(v.Drift, fmt.Sprintf("%s is not marked as labnet's (alias %q)", br.Name, br.Alias))
	}
	v.Drift = append(v.Drift, linkDrift(br, br.Name, s.MTU, n.MAC(s.Addr))...)
	vx.Name = s.Vxlan
	remake := vxlanDrift(vx, vxOK, s.vxlan())
	v.Drift = append(v.Drift, remake...)
	if len(remake) > 0 {
		return v // its flood entries go and come with it
	}
	if vx.Master != s.Bridge {
		v.Drift = append(v.Drift, fmt.Sprintf("%s is not on %s", s.Vxlan, s.Bridge))
	}
	if vx.Alias != n.Alias(s.Addr) {
		v.Drift = append(v.Drift, fmt.Sprintf("%s is not marked as labnet's (alias %q)", vx.Name, vx.Alias))
	}
	v.Drift = append(v.Drift, linkDrift(vx, vx.Name, s.MTU, "")...)
	for _, p := range s.Peers {
		if !k.HasFdb(s.Vxlan, "00:00:00:00:00:00", p.Host) {
			v.Drift = append(v.Drift, "flood entry to "+p.Host.String()+" is missing")
		}
	}
	return v
}

// RepairBatch puts an existing port back in shape (PeerShell then writes
// the flood entries: all of them when the device was remade).
func (s SegmentLink) RepairBatch(n Names, remake bool) []string {
	l := []string{fmt.Sprintf("link set dev %s address %s mtu %d alias %s up", s.Bridge, n.MAC(s.Addr), s.MTU, n.Alias(s.Addr))}
	if remake {
		return append(append(l, "link del dev "+s.Vxlan), s.vxlanAdd(n)...)
	}
	return append(l, fmt.Sprintf("link set dev %s mtu %d alias %s master %s up", s.Vxlan, s.MTU, n.Alias(s.Addr), s.Bridge))
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
		fmt.Sprintf("link add name %s type veth peer name %s address %s netns %s", c.HostVeth, c.Ifname, n.MAC(c.Addr), c.Netns),
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

// Judge compares a NIC with what CreateBatch and Inside make.
func (c NIC) Judge(n Names, k *Observed) Verdict {
	veth, vethOK := k.Links[c.HostVeth]
	ns := k.Netns[c.Netns]
	var in Link
	inOK := false
	if ns != nil {
		in, inOK = ns.Links[c.Ifname]
	}
	if !vethOK && !inOK {
		return Verdict{Drift: []string{"veth " + c.HostVeth + " is missing"}}
	}
	if !vethOK || !inOK {
		return Verdict{Exists: true, Drift: []string{c.Ifname + " or its veth " + c.HostVeth + " is missing"}}
	}
	v := Verdict{Exists: true}
	if veth.Master != c.Bridge {
		v.Drift = append(v.Drift, fmt.Sprintf("veth %s is not on %s", c.HostVeth, c.Bridge))
	}
	if veth.Alias != n.Alias(c.Addr) {
		v.Drift = append(v.Drift, fmt.Sprintf("veth %s is not marked as labnet's (alias %q)", c.HostVeth, veth.Alias))
	}
	v.Drift = append(v.Drift, linkDrift(veth, "veth "+c.HostVeth, c.MTU, "")...)
	v.Drift = append(v.Drift, linkDrift(in, c.Ifname, c.MTU, n.MAC(c.Addr))...)
	if len(in.Addrs) != 1 || in.Addrs[0] != c.Address {
		v.Drift = append(v.Drift, fmt.Sprintf("%s has %v, wants %s", c.Ifname, in.Addrs, c.Address))
	}
	return v
}

func (c NIC) DeleteBatch() []string {
	return []string{fmt.Sprintf("link del dev %s", c.HostVeth)}
}

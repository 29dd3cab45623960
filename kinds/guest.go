package kinds

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
)

// guest: a network namespace with eth0, whose veth peer is on a bridge of
// its host. Containers, VMs and pods share it; each is a kind of its own
// for what replaces it.
type guest struct {
	name     string
	order    int
	forceNew []string
}

func init() {
	base := []string{"host", "bridge", "bridge_ifname", "netns", "veth"}
	// A container's own mount and UTS namespaces hold its processes: made
	// again, they are restarted. New private dirs are empty: likewise.
	register(guest{Container, 6, append(append([]string{}, base...), "mount_ns", "uts_ns", "private_dirs",
		// An image container's process and image: made again, it is restarted.
		"image_digest", "runc_id", "bundle", "args", "env", "workdir", "user", "caps", "privileged", "owner", "log", "hostname", "cgroup", "mounts")})
	register(guest{VM, 7, append(append([]string{}, base...), "mode")})
	register(guest{Pod, 8, append(append([]string{}, base...), "network")})
	expands(phaseNodes, expandContainers)
	expands(phaseNodes, expandVMs)
	expands(phaseNodes, expandPods)
	draws(3, drawContainers)
	draws(4, drawVMs)
	draws(6, drawPods)
}

func (g guest) Info() Info {
	i := Info{Name: g.name, Order: g.order, Parents: []string{"bridge"}, WithHost: true, Guest: true, Node: true, ForceNew: g.forceNew}
	if g.name == Container {
		i.Why = imageWhy
	}
	return i
}

// guestSpec is a container's, VM's or pod's typed spec.
type guestSpec struct {
	Host         string     `json:"host,omitzero"`
	Bridge       string     `json:"bridge,omitzero"` // the resource its eth0 is on
	BridgeIfname string     `json:"bridge_ifname,omitzero"`
	Address      netip.Addr `json:"address,omitzero"`
	Bits         int        `json:"bits,omitzero"`
	Gateway      netip.Addr `json:"gateway,omitzero"`
	MTU          int        `json:"mtu,omitzero"`
	Netns        string     `json:"netns,omitzero"`
	Veth         string     `json:"veth,omitzero"`
	Ports        []Port     `json:"ports,omitempty"` // not pods
	// Shaping keeps its units ("100mbit", "20ms", "0.5%"), as written in
	// the lab and shown in plans.
	Rate    string `json:"rate,omitzero"`
	Delay   string `json:"delay,omitzero"`
	Loss    string `json:"loss,omitzero"`
	Mode    string `json:"mode,omitzero"`    // VMs: nat, bridged or segment
	Network string `json:"network,omitzero"` // pods: their pod network
	// A container's own mount and UTS namespaces: their files, its
	// hostname, its private dirs and the files written into them.
	MountNS     string     `json:"mount_ns,omitzero"`
	UTSNS       string     `json:"uts_ns,omitzero"`
	Hostname    string     `json:"hostname,omitzero"`
	PrivateDirs []string   `json:"private_dirs,omitempty"`
	Files       []fileSpec `json:"files,omitempty"`
	// A container run by runc from an image (kinds/runc.go).
	Image        string   `json:"image,omitzero"`
	ImageArchive string   `json:"image_archive,omitzero"`
	ImageDigest  string   `json:"image_digest,omitzero"`
	RuncID       string   `json:"runc_id,omitzero"`
	Bundle       string   `json:"bundle,omitzero"`
	Log          string   `json:"log,omitzero"`
	Owner        string   `json:"owner,omitzero"`
	Args         []string `json:"args,omitempty"`
	Env          []string `json:"env,omitempty"`
	Workdir      string   `json:"workdir,omitzero"`
	User         string   `json:"user,omitzero"`
	Caps         []string `json:"caps,omitempty"`
	Privileged   *bool    `json:"privileged,omitempty"`
	Cgroup       string   `json:"cgroup,omitzero"`
	// Mounts: host paths bound into it (mount blocks).
	Mounts []hostnet.BindMount `json:"mounts,omitempty"`
	// Memory keeps its unit ("256MiB"), as written in plans.
	Memory string  `json:"memory,omitzero"`
	CPUs   float64 `json:"cpus,omitzero"`

	rc *hostnet.RuncContainer // the above, as hostnet runs it

	iso *hostnet.Isolation // the above, as hostnet makes it

	shape hostnet.Shaping // Rate, Delay and Loss parsed
}

// guestSpecOf parses the attributes of a guest of the given kind: a VM
// has its mode, a pod its network and no ports.
func guestSpecOf(addr string, a Attrs, kind string) (*guestSpec, error) {
	p := parser{a: a}
	if a["bridge_ifname"] == "" && a["bridge"] == "" && a["veth"] == "" && kind == Container {
		// A container wired by links alone: no eth0.
		s := &guestSpec{Host: p.str("host"), Netns: p.name("netns")}
		s.isolation(&p)
		if a["runc_id"] != "" {
			s.runc(&p)
		}
		return s, p.done(addr)
	}
	s := &guestSpec{Host: p.str("host"), Bridge: p.str("bridge"), BridgeIfname: p.name("bridge_ifname"),
		Address: p.addr("address"), Bits: p.num("bits", 1, 32), Gateway: p.optAddr("gateway"), MTU: p.optNum("mtu", 68, 65535),
		Netns: p.name("netns"), Veth: p.name("veth"), shape: p.shaping()}
	s.Rate, s.Delay, s.Loss = a["rate"], a["delay"], a["loss"]
	switch kind {
	case VM:
		s.Mode = p.str("mode")
	case Pod:
		s.Network = p.str("network")
	}
	if kind != Pod {
		s.Ports = p.ports("ports")
	}
	if kind == Container {
		s.isolation(&p)
		if a["runc_id"] != "" {
			s.runc(&p)
		}
	}
	return s, p.done(addr)
}

func (s *guestSpec) Attrs() Attrs {
	o := make(out, 16)
	o.str("host", s.Host)
	o.str("bridge", s.Bridge)
	o.str("bridge_ifname", s.BridgeIfname)
	o.addr("address", s.Address)
	o.num("bits", s.Bits)
	o.addr("gateway", s.Gateway)
	o.num("mtu", s.MTU)
	o.str("netns", s.Netns)
	o.str("veth", s.Veth)
	o.str("ports", PortsAttr(s.Ports))
	o.str("rate", s.Rate)
	o.str("delay", s.Delay)
	o.str("loss", s.Loss)
	o.str("mode", s.Mode)
	o.str("network", s.Network)
	o.str("mount_ns", s.MountNS)
	o.str("uts_ns", s.UTSNS)
	o.str("hostname", s.Hostname)
	s.ownAttrs(o)
	return Attrs(o)
}

// ownAttrs are the attributes of what a container has of its own: its
// image's process (an image container), its private dirs and its files.
func (s *guestSpec) ownAttrs(o out) {
	s.runcAttrs(o)
	if len(s.PrivateDirs) > 0 {
		o.str("private_dirs", CommandAttr(s.PrivateDirs))
	}
	for _, f := range s.Files {
		o.str(FilePrefix+f.Path, FileAttr(f.Mode, f.Content))
	}
}

func (g guest) Spec(addr string, a Attrs) (Spec, error) { return guestSpecOf(addr, a, g.name) }
func (guest) NewSpec() Spec                             { return &guestSpec{} }

// Describe is what inspect shows of a guest besides its state: its
// address, and for a container run from an image, the image and the start
// of its digest (how a stopped one ended is in its drift).
func (guest) Describe(a Attrs) []string {
	d := []string{a["address"]}
	if a["image"] != "" {
		digest := a["image_digest"]
		if len(digest) > len("sha256:")+12 {
			digest = digest[:len("sha256:")+12]
		}
		d = append(d, "image "+a["image"]+" ("+digest+")")
	}
	return d
}

// GuestOf is a container's, VM's or pod's namespace and eth0.
func GuestOf(addr string, a Attrs) (hostnet.Container, error) {
	// Which kind it is shows in its own attribute.
	kind := Container
	switch {
	case a["mode"] != "":
		kind = VM
	case a["network"] != "":
		kind = Pod
	}
	s, err := guestSpecOf(addr, a, kind)
	return hostnet.Container{Addr: addr, Netns: s.Netns, HostVeth: s.Veth, Bridge: s.BridgeIfname, Address: s.Address,
		Bits: s.Bits, Gateway: s.Gateway, MTU: s.MTU, Host: s.Host, Shape: s.shape, Iso: s.iso, Runc: s.rc}, err
}

// Port is a published port of a guest: HostPort on its host forwards to
// Port of the guest (the rule is its host's nat_table's).
type Port struct {
	HostPort int    `json:"host_port,omitzero"`
	Protocol string `json:"protocol,omitzero"` // tcp or udp
	Port     int    `json:"port,omitzero"`
}

// String is the port as the guest's "ports" attribute lists it: 8080/tcp->80.
func (p Port) String() string {
	return strconv.Itoa(p.HostPort) + "/" + p.Protocol + "->" + strconv.Itoa(p.Port)
}

// PortsAttr is the "ports" attribute: each port's String, separated by spaces.
func PortsAttr(ps []Port) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// ports reads a "ports" attribute (none when absent).
func (p *parser) ports(key string) []Port {
	var out []Port
	for _, f := range strings.Fields(p.get(key)) {
		host, rest, ok1 := strings.Cut(f, "/")
		proto, port, ok2 := strings.Cut(rest, "->")
		hp, err1 := strconv.Atoi(host)
		gp, err2 := strconv.Atoi(port)
		switch {
		case !ok1 || !ok2 || err1 != nil || err2 != nil:
			p.fail(key, fmt.Errorf("%q is not HOSTPORT/PROTOCOL->PORT", f))
		case proto != "tcp" && proto != "udp":
			p.fail(key, fmt.Errorf("%q: protocol is not tcp or udp", f))
		case hp < 1 || hp > 65535 || gp < 1 || gp > 65535:
			p.fail(key, fmt.Errorf("%q: a port is out of range 1..65535", f))
		}
		out = append(out, Port{HostPort: hp, Protocol: proto, Port: gp})
	}
	return out
}

// Reads: a kept guest is read inside; of one that goes, only whether its
// namespace is listed (and its veth, when the namespace is not).
func (guest) Reads(r *Reads, a Attrs) {
	r.Tool("ip", "python3") // its namespace is wired by inside.py
	if a["runc_id"] != "" {
		r.Tool("runc")
	}
	if a["rate"]+a["delay"]+a["loss"] != "" {
		r.Tool("tc")
	}
	switch {
	case a["netns"] == "":
	case r.Kept(a["netns"]):
		r.Link(a["veth"])
		r.Inside(a["netns"])
		if a["mount_ns"] != "" {
			r.Iso(isoRead(a))
		}
		if a["runc_id"] != "" {
			r.Runc(runcRead(a), a["image_digest"])
		}
	case a["veth"] != "":
		r.Gone(a["veth"], a["netns"])
	}
	if a["runc_id"] != "" && a["netns"] != "" && !r.Kept(a["netns"]) {
		r.Runc(runcRead(a), a["image_digest"]) // going: there while runc or its overlay is
	}
	if a["mount_ns"] != "" {
		r.IsoList() // whether its namespace files are there, kept or going
	}
}

// isoRead is what refresh reads in a container's own namespaces: its
// private dirs and files, by path (the attributes are parsed by Check).
func isoRead(a Attrs) hostnet.IsoRead {
	ir := hostnet.IsoRead{MountNS: a["mount_ns"], UTSNS: a["uts_ns"], Hostname: a["hostname"]}
	if a["private_dirs"] != "" {
		_ = json.Unmarshal([]byte(a["private_dirs"]), &ir.Dirs)
	}
	for k := range a {
		if strings.HasPrefix(k, FilePrefix) {
			ir.Files = append(ir.Files, strings.TrimPrefix(k, FilePrefix))
		}
	}
	return ir
}

func (guest) Judge(n hostnet.Names, addr string, a Attrs, k *hostnet.Observed, going bool) (hostnet.Verdict, error) {
	if going {
		// Only listed, not read inside: only whether it is there counts.
		if (hostnet.Container{Netns: a["netns"], HostVeth: a["veth"]}).There(k) || hostnet.IsoThere(k, a["mount_ns"], a["uts_ns"]) ||
			a["runc_id"] != "" && (k.Runc[a["runc_id"]] != nil || slices.Contains(k.Overlays, a["bundle"]+"/rootfs")) {
			return hostnet.Verdict{Exists: true}, nil
		}
		return hostnet.Verdict{Drift: []string{"netns " + a["netns"] + " is missing"}}, nil
	}
	return judge(GuestOf, n, addr, a, k)
}

func (guest) Step(n hostnet.Names, op Op, k *hostnet.Observed) (hostnet.Step, error) {
	a := op.Attrs()
	if op.Delete {
		// A deletion needs the names only (parsing addresses and shaping
		// was a third of the stage's building for 1,000 guests).
		ct := hostnet.Container{Addr: op.Addr, Netns: a["netns"], HostVeth: a["veth"]}
		veth, ns := true, true
		if k != nil {
			veth, ns = hasLink(k, ct.HostVeth), k.Netns[ct.Netns] != nil
		}
		if !op.Replace && ns {
			// Deleting the namespace takes both veth ends with it, and the
			// kernel unregisters them in one batch: ten times faster than a
			// `link del` each. A replacement deletes the veth itself,
			// because its name is reused at once.
			veth = false
		}
		s := hostnet.Step{Batch: ct.DeleteBatch(veth, ns)}
		if m := a["mount_ns"]; m != "" && (k == nil || hostnet.IsoThere(k, m, a["uts_ns"])) {
			s.Unbind = hostnet.IsoUnbind(m, a["uts_ns"])
		}
		if id := a["runc_id"]; id != "" {
			s.Shell = hostnet.RuncDeleteShell(id, a["bundle"], a["cgroup"])
		}
		return s, nil
	}
	ct, err := GuestOf(op.Addr, a)
	if err != nil {
		return hostnet.Step{}, err
	}
	var s hostnet.Step
	if op.Update {
		s.Batch = ct.RepairBatch(n)
	} else {
		s.Batch = ct.CreateBatch(n)
	}
	s.Inside = ct.Inside(n)
	s.Inside.Iso = isoStep(ct, n, op, k)
	if shapeNeeded(ct, op.Update, k) {
		s.Shell = ct.ShapeShell()
	}
	if ct.Runc != nil {
		runcStep(&s, ct, a, op, k)
	}
	return s, nil
}

// thenShell runs b after a, if a succeeded (either may be empty).
func thenShell(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return "{\n" + a + "\n} && {\n" + b + "\n}"
}

// shapeNeeded says whether a guest's step must touch eth0's root qdisc:
// always when it is shaped; when it is not, only on an update whose
// namespace may hold a tbf or netem root (a new namespace has none, so
// unshaped guests cost no tc at all).
func shapeNeeded(ct hostnet.Container, update bool, k *hostnet.Observed) bool {
	if !ct.Shape.IsZero() {
		return true
	}
	if !update {
		return false
	}
	if k == nil || k.Netns[ct.Netns] == nil {
		return true
	}
	return len(ct.ShapeDrift(k.Netns[ct.Netns])) > 0
}

// NeedsNetem says whether a resource asks for delay or loss (the kernel's
// netem, probed on its host before anything changes).
func NeedsNetem(kind string, a Attrs) bool {
	return a["delay"] != "" || a["loss"] != "" // guests' and links' shaping
}

// RemovableWithTheRead says whether a going resource is removed by
// deleting its namespace alone (see plan.EarlyRemovals).
func RemovableWithTheRead(kind string, before Attrs) bool {
	// An image container's runc container and overlay do not go with it.
	return Of(kind).Guest && before["netns"] != "" && before["runc_id"] == ""
}

// ForgetRemoved drops from a read what it listed of a guest that was
// removed right after it (RemovableWithTheRead): its namespace, its veth,
// which goes with the namespace, and its mount and UTS namespace files.
func ForgetRemoved(before Attrs, k *hostnet.Observed, r *hostnet.Reads) {
	delete(k.Netns, before["netns"])
	delete(k.Links, before["veth"])
	delete(r.Gone, before["veth"])
	for _, f := range hostnet.IsoUnbind(before["mount_ns"], before["uts_ns"]).Files {
		delete(k.IsoFiles, path.Base(f))
	}
}

// guestArgs is what a container, VM or pod expands to: a namespace with
// eth0 on a bridge.
type guestArgs struct {
	addr, kind, name, host, parent, ifname string
	address                                netip.Addr
	bits                                   int
	gateway                                netip.Addr
	mtu                                    int
	ports                                  []config.Port
	shaping                                config.Shaping
	extra                                  Attrs
	deps                                   []string
}

// guest adds a guest, its published ports' rules, and records it as a node.
func (x *Expansion) guest(g guestArgs) {
	var ports []Port
	for _, p := range g.ports {
		ports = append(ports, Port{HostPort: p.HostPort, Protocol: p.Protocol, Port: p.Port})
		x.rule(g.host, hostnet.NatRule{Owner: g.addr, Kind: "dnat", Proto: p.Protocol,
			DstAddr: x.host(g.host).Address, DstPort: p.HostPort, ToAddr: g.address, ToPort: p.Port})
	}
	gw := ""
	if g.gateway.IsValid() {
		gw = g.gateway.String()
	}
	a := Attrs{
		"host": g.host, "bridge": g.parent, "bridge_ifname": g.ifname, "address": g.address.String(),
		"bits": strconv.Itoa(g.bits), "gateway": gw, "mtu": itoa(g.mtu),
		"netns": x.Names.Netns(g.name), "veth": x.Names.HostVeth(g.addr), "ports": PortsAttr(ports),
	}
	for k, v := range shapingAttrs(g.shaping) {
		a[k] = v
	}
	for k, v := range g.extra {
		a[k] = v
	}
	x.node(g.addr, g.host, x.Names.Netns(g.name), nil)
	x.add(&Resource{Addr: g.addr, Kind: g.kind, Host: g.host, Attrs: a, Deps: x.deps(g.addr, append(g.deps, g.host, g.parent)...)})
}

// nics adds a guest's extra interfaces on tenant segments, eth1 and on.
func (x *Expansion) nics(guestAddr, guestName, host string, nics []config.NIC) {
	for i, c := range nics {
		sg := config.Find[*config.Segment](x.Lab, c.Segment)
		addr := fmt.Sprintf("%s/nic[%d]", guestAddr, i)
		link := SegmentLinkAddr(sg.Name, x.host(host).Name)
		x.add(&Resource{Addr: addr, Kind: NIC, Host: host, Attrs: Attrs{
			"host": host, "guest": guestAddr, "netns": x.Names.Netns(guestName), "ifname": fmt.Sprintf("eth%d", i+1),
			"veth": x.Names.HostVeth(addr), "bridge": link, "bridge_ifname": "lns-" + sg.Name,
			"address": c.Address.String(), "bits": strconv.Itoa(sg.CIDR.Bits()), "mtu": strconv.Itoa(VxlanMTU),
		}, Deps: []string{guestAddr, link}})
	}
}

// expandContainers: every container has its own mount and UTS namespaces
// (VMs and pods do not): their files, hostname, private dirs and files; or,
// with an image, what runc runs.
func expandContainers(x *Expansion) {
	for _, c := range x.Lab.Containers() {
		h := x.host(c.Host)
		iso := Attrs{"mount_ns": x.Names.MountNS(c.Name), "uts_ns": x.Names.UTSNS(c.Name), "hostname": c.Name}
		if c.Image != nil {
			// runc makes its namespaces: no namespace files of labnet's.
			iso = imageAttrs(x.Names, c, h.Name)
		}
		if len(c.PrivateDirs) > 0 {
			iso["private_dirs"] = CommandAttr(c.PrivateDirs)
		}
		for _, f := range c.Files {
			iso[FilePrefix+f.Path] = FileAttr(f.Mode, f.Content)
		}
		switch {
		case c.Segment == "" && c.Bridge == "":
			// Wired by links alone: a namespace without eth0.
			a := Attrs{"host": c.Host, "netns": x.Names.Netns(c.Name)}
			for k, v := range iso {
				a[k] = v
			}
			x.add(&Resource{Addr: c.Addr, Kind: Container, Host: c.Host, Attrs: a, Deps: x.deps(c.Addr, c.Host)})
		case c.Segment != "":
			sg := config.Find[*config.Segment](x.Lab, c.Segment)
			x.guest(guestArgs{addr: c.Addr, kind: Container, name: c.Name, host: c.Host,
				parent: SegmentLinkAddr(sg.Name, h.Name), ifname: "lns-" + sg.Name,
				address: c.Address, bits: sg.CIDR.Bits(), mtu: VxlanMTU, shaping: c.Shaping, extra: iso, deps: []string{c.Segment}})
		default:
			b := config.Find[*config.Bridge](x.Lab, c.Bridge)
			x.guest(guestArgs{addr: c.Addr, kind: Container, name: c.Name, host: c.Host, parent: c.Bridge, ifname: b.Ifname,
				address: c.Address, bits: b.CIDR.Bits(), gateway: b.Gateway, ports: c.Ports, shaping: c.Shaping, extra: iso})
		}
		x.node(c.Addr, c.Host, x.Names.Netns(c.Name), iso)
		x.nics(c.Addr, c.Name, c.Host, c.NICs)
	}
}

// expandVMs: bridged VMs join the LAN through the host's LAN bridge; nat
// ones sit behind the host's NAT bridge ("virtual router").
func expandVMs(x *Expansion) {
	lanBridged, natted := map[string]bool{}, map[string]bool{}
	for _, v := range x.Lab.VMs() {
		h := x.host(v.Host)
		mode := Attrs{"mode": v.Mode}
		switch v.Mode {
		case "segment":
			sg := config.Find[*config.Segment](x.Lab, v.Segment)
			x.guest(guestArgs{addr: v.Addr, kind: VM, name: v.Name, host: h.Addr, parent: SegmentLinkAddr(sg.Name, h.Name),
				ifname: "lns-" + sg.Name, address: v.Address, bits: sg.CIDR.Bits(), mtu: VxlanMTU, shaping: v.Shaping,
				extra: mode, deps: []string{v.Segment}})
		case "bridged":
			nw := config.Find[*config.Network](x.Lab, h.Network)
			if !lanBridged[h.Addr] {
				lanBridged[h.Addr] = true
				x.add(&Resource{Addr: LanBridgeAddr(h.Name), Kind: LanBridge, Host: h.Addr, Attrs: Attrs{
					// The LAN interface is the one holding this address on
					// the host (hostnet.LanBridge finds it there).
					"host": h.Addr, "ifname": LanBridgeIfname,
					"address": netip.PrefixFrom(h.Address, nw.CIDR.Bits()).String(),
				}, Deps: []string{h.Addr}})
			}
			x.guest(guestArgs{addr: v.Addr, kind: VM, name: v.Name, host: h.Addr, parent: LanBridgeAddr(h.Name), ifname: LanBridgeIfname,
				address: v.Address, bits: nw.CIDR.Bits(), gateway: Gateway(nw.CIDR), shaping: v.Shaping, extra: mode})
		default:
			gw := h.NatCIDR.Addr().Next()
			if !natted[h.Addr] {
				natted[h.Addr] = true
				x.add(&Resource{Addr: VMNatAddr(h.Name), Kind: Bridge, Host: h.Addr, Attrs: Attrs{
					"host": h.Addr, "ifname": VMNatIfname, "cidr": h.NatCIDR.String(), "gateway": gw.String(), "masquerade": "true",
				}, Deps: []string{h.Addr}})
				x.rule(h.Addr, hostnet.NatRule{Owner: VMNatAddr(h.Name), Kind: "masquerade", Source: h.NatCIDR, NotDest: h.NatCIDR})
			}
			x.guest(guestArgs{addr: v.Addr, kind: VM, name: v.Name, host: h.Addr, parent: VMNatAddr(h.Name), ifname: VMNatIfname,
				address: v.Address, bits: h.NatCIDR.Bits(), gateway: gw, ports: v.Ports, shaping: v.Shaping, extra: mode})
		}
		x.nics(v.Addr, v.Name, v.Host, v.NICs)
	}
}

// expandPods: a pod is a namespace on its host's share of its pod network.
func expandPods(x *Expansion) {
	for _, p := range x.Lab.Pods() {
		pn := config.Find[*config.PodNetwork](x.Lab, p.Network)
		sub := pn.Subnets[p.Host]
		mtu := 0
		if pn.Backend == "vxlan" {
			mtu = VxlanMTU
		}
		x.guest(guestArgs{addr: p.Addr, kind: Pod, name: p.Name, host: p.Host, parent: PodNetAddr(x.host(p.Host).Name), ifname: PodBridgeIfname,
			address: p.Address, bits: sub.Bits(), gateway: sub.Addr().Next(), mtu: mtu, shaping: p.Shaping,
			extra: Attrs{"network": p.Network}, deps: []string{p.Network}})
		x.nics(p.Addr, p.Name, p.Host, p.NICs)
	}
}

// portsLabel is a guest's published ports, as its line is labelled.
func portsLabel(ps []config.Port) string {
	var s []string
	for _, p := range ps {
		s = append(s, fmt.Sprintf(":%d->%d/%s", p.HostPort, p.Port, p.Protocol))
	}
	return strings.Join(s, " ")
}

func drawContainers(d *Drawing) {
	for _, c := range d.Lab.Containers() {
		if c.Bridge == "" && c.Segment == "" {
			d.shape(c.Addr, c.Addr, "component", c.Host) // wired by links alone
			continue
		}
		d.shape(c.Addr, fmt.Sprintf("%s\n%s", c.Addr, c.Address), "component", c.Host)
		parent := c.Bridge
		if c.Segment != "" {
			parent = c.Segment + "@" + c.Host
		}
		d.line(c.Addr, parent, portsLabel(c.Ports), false)
	}
}

func drawVMs(d *Drawing) {
	natDone, lanBr := map[string]bool{}, map[string]bool{}
	for _, v := range d.Lab.VMs() {
		d.shape(v.Addr, fmt.Sprintf("%s (%s)\n%s", v.Addr, v.Mode, v.Address), "box3d", v.Host)
		if v.Mode == "bridged" {
			br := "lanbr@" + v.Host
			if !lanBr[v.Host] {
				lanBr[v.Host] = true
				d.shape(br, "lanbr (bridged)", "hexagon", v.Host)
				d.line(br, v.Host, "", false)
			}
			d.line(v.Addr, br, "", false)
			continue
		}
		br := "virbr0@" + v.Host
		if !natDone[v.Host] {
			natDone[v.Host] = true
			if h := config.Find[*config.Host](d.Lab, v.Host); h != nil {
				d.shape(br, fmt.Sprintf("virbr0\n%s NAT", h.NatCIDR), "hexagon", v.Host)
			}
			d.line(br, v.Host, "", false)
		}
		d.line(v.Addr, br, portsLabel(v.Ports), false)
	}
}

func drawPods(d *Drawing) {
	for _, p := range d.Lab.Pods() {
		d.shape(p.Addr, fmt.Sprintf("%s\n%s", p.Addr, p.Address), "component", p.Host)
		d.line(p.Addr, "cni0@"+p.Host, "", false)
	}
}

// Place: a guest's network namespace, and a container's own.
func (guest) Place(addr string, a Attrs) (Place, error) {
	c, err := GuestOf(addr, a)
	if err != nil {
		return Place{}, err
	}
	p := Place{Netns: c.Netns, Address: c.Address}
	if c.Iso != nil {
		p.MountNS, p.UTSNS = c.Iso.MountNS, c.Iso.UTSNS
	}
	if c.Runc != nil {
		p.Runc, p.Log = c.Runc.ID, c.Runc.Log
	}
	return p, nil
}

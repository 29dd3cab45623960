// Package expand turns a decoded lab into the resources labnet manages, each
// with the flat attributes it is compared and stored by, and rebuilds the
// kernel objects of a resource from those attributes (so a resource that is
// only in the state can still be deleted). It is pure.
package expand

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
)

// Resource is one thing labnet makes.
type Resource struct {
	Addr  string
	Kind  string
	Host  string // host resource it lives on ("" for networks; itself for hosts)
	Attrs map[string]string
	Deps  []string
}

// Lab expands a decoded lab.
func Lab(lab *config.Lab) []*Resource {
	n := hostnet.Names{Lab: lab.Name}
	var res []*Resource
	deps := func(addr string, extra ...string) []string {
		d := append(append([]string{}, lab.Deps[addr]...), extra...)
		sort.Strings(d)
		return compact(d)
	}
	networks := map[string]*config.Network{}
	for _, nw := range lab.Networks {
		networks[nw.Addr] = nw
		res = append(res, &Resource{Addr: nw.Addr, Kind: kinds.Network, Attrs: map[string]string{
			"name": nw.Name, "cidr": nw.CIDR.String(), "gateway": Gateway(nw.CIDR).String(),
		}, Deps: deps(nw.Addr)})
	}
	hosts := map[string]*config.Host{}
	// A network is made by the provider of its hosts: netns builds the LAN
	// itself; ssh and lima hosts have one already.
	networkProvider := map[string]string{}
	for _, h := range lab.Hosts {
		hosts[h.Addr] = h
		nw := networks[h.Network]
		a := map[string]string{
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
		if networkProvider[h.Network] == "" {
			networkProvider[h.Network] = h.Provider
		}
		res = append(res, &Resource{Addr: h.Addr, Kind: kinds.Host, Host: h.Addr, Attrs: a, Deps: deps(h.Addr, h.Network)})
	}
	bridges := map[string]*config.Bridge{}
	rules := map[string][]hostnet.NatRule{}
	for _, b := range lab.Bridges {
		bridges[b.Addr] = b
		res = append(res, &Resource{Addr: b.Addr, Kind: kinds.Bridge, Host: b.Host, Attrs: map[string]string{
			"host": b.Host, "ifname": b.Ifname, "cidr": b.CIDR.String(), "gateway": b.Gateway.String(),
			"masquerade": strconv.FormatBool(b.Masquerade),
		}, Deps: deps(b.Addr, b.Host)})
		if b.Masquerade {
			rules[b.Host] = append(rules[b.Host], hostnet.NatRule{Owner: b.Addr, Kind: "masquerade", Source: b.CIDR, NotDest: b.CIDR})
		}
	}
	// guest adds a container, VM or pod: a namespace with eth0 on a bridge.
	type guestSpec struct {
		addr, kind, name, host, parent, ifname string
		address                                netip.Addr
		bits                                   int
		gateway                                netip.Addr
		mtu                                    int
		ports                                  []config.Port
		shaping                                config.Shaping
		extra                                  map[string]string
		deps                                   []string
	}
	nodes := map[string]string{} // node address -> netns ("" for hosts)
	nodeHost := map[string]string{}
	for _, h := range lab.Hosts {
		nodes[h.Addr], nodeHost[h.Addr] = "", h.Addr
	}
	guest := func(g guestSpec) {
		var ports []kinds.Port
		for _, p := range g.ports {
			ports = append(ports, kinds.Port{HostPort: p.HostPort, Protocol: p.Protocol, Port: p.Port})
			rules[g.host] = append(rules[g.host], hostnet.NatRule{Owner: g.addr, Kind: "dnat", Proto: p.Protocol,
				DstAddr: hosts[g.host].Address, DstPort: p.HostPort, ToAddr: g.address, ToPort: p.Port})
		}
		gw, mtu := "", ""
		if g.gateway.IsValid() {
			gw = g.gateway.String()
		}
		if g.mtu > 0 {
			mtu = strconv.Itoa(g.mtu)
		}
		a := map[string]string{
			"host": g.host, "bridge": g.parent, "bridge_ifname": g.ifname, "address": g.address.String(),
			"bits": strconv.Itoa(g.bits), "gateway": gw, "mtu": mtu,
			"netns": n.Netns(g.name), "veth": n.HostVeth(g.addr), "ports": kinds.PortsAttr(ports),
		}
		for k, v := range shapingAttrs(g.shaping) {
			a[k] = v
		}
		for k, v := range g.extra {
			a[k] = v
		}
		nodes[g.addr], nodeHost[g.addr] = n.Netns(g.name), g.host
		res = append(res, &Resource{Addr: g.addr, Kind: g.kind, Host: g.host, Attrs: a, Deps: deps(g.addr, append(g.deps, g.host, g.parent)...)})
	}
	segments := map[string]*config.Segment{}
	for _, sg := range lab.Segments {
		segments[sg.Addr] = sg
		for _, h := range sg.Hosts {
			var peers []string
			for _, o := range sg.Hosts {
				if o != h {
					peers = append(peers, hostnet.Peer{Host: hosts[o].Address}.String())
				}
			}
			res = append(res, &Resource{Addr: SegmentLinkAddr(sg.Name, hosts[h].Name), Kind: kinds.SegmentLink, Host: h, Attrs: map[string]string{
				"host": h, "segment": sg.Addr, "bridge": "lns-" + sg.Name, "vxlan": "lnv-" + sg.Name,
				"vni": strconv.Itoa(sg.VNI), "port": strconv.Itoa(sg.Port), "local": hosts[h].Address.String(),
				"mtu": strconv.Itoa(VxlanMTU), "peers": strings.Join(peers, " "),
			}, Deps: []string{h}})
		}
	}
	// Every container has its own mount and UTS namespaces (VMs and pods
	// do not): their files, hostname, private dirs and files.
	isolated := map[string]map[string]string{} // container address -> its isolation attributes
	for _, c := range lab.Containers {
		iso := map[string]string{"mount_ns": n.MountNS(c.Name), "uts_ns": n.UTSNS(c.Name), "hostname": c.Name}
		if c.Image != nil {
			// runc makes its namespaces: no namespace files of labnet's.
			iso = imageAttrs(n, c, hosts[c.Host].Name)
		}
		if len(c.PrivateDirs) > 0 {
			iso["private_dirs"] = kinds.CommandAttr(c.PrivateDirs)
		}
		for _, f := range c.Files {
			iso[kinds.FilePrefix+f.Path] = kinds.FileAttr(f.Mode, f.Content)
		}
		isolated[c.Addr] = iso
		if c.Segment == "" && c.Bridge == "" {
			// Wired by links alone: a namespace without eth0.
			nodes[c.Addr], nodeHost[c.Addr] = n.Netns(c.Name), c.Host
			a := map[string]string{"host": c.Host, "netns": n.Netns(c.Name)}
			for k, v := range iso {
				a[k] = v
			}
			res = append(res, &Resource{Addr: c.Addr, Kind: kinds.Container, Host: c.Host, Attrs: a, Deps: deps(c.Addr, c.Host)})
			continue
		}
		if c.Segment != "" {
			sg := segments[c.Segment]
			guest(guestSpec{addr: c.Addr, kind: kinds.Container, name: c.Name, host: c.Host,
				parent: SegmentLinkAddr(sg.Name, hosts[c.Host].Name), ifname: "lns-" + sg.Name,
				address: c.Address, bits: sg.CIDR.Bits(), mtu: VxlanMTU, shaping: c.Shaping, extra: iso, deps: []string{c.Segment}})
			continue
		}
		b := bridges[c.Bridge]
		guest(guestSpec{addr: c.Addr, kind: kinds.Container, name: c.Name, host: c.Host, parent: c.Bridge, ifname: b.Ifname,
			address: c.Address, bits: b.CIDR.Bits(), gateway: b.Gateway, ports: c.Ports, shaping: c.Shaping, extra: iso})
	}
	// VMs: bridged ones join the LAN through the host's LAN bridge; nat
	// ones sit behind the host's NAT bridge ("virtual router").
	lanBridged, natted := map[string]bool{}, map[string]bool{}
	for _, v := range lab.VMs {
		h := hosts[v.Host]
		if v.Mode == "segment" {
			sg := segments[v.Segment]
			guest(guestSpec{addr: v.Addr, kind: kinds.VM, name: v.Name, host: h.Addr, parent: SegmentLinkAddr(sg.Name, h.Name),
				ifname: "lns-" + sg.Name, address: v.Address, bits: sg.CIDR.Bits(), mtu: VxlanMTU, shaping: v.Shaping,
				extra: map[string]string{"mode": v.Mode}, deps: []string{v.Segment}})
			continue
		}
		if v.Mode == "bridged" {
			nw := networks[h.Network]
			if !lanBridged[h.Addr] {
				lanBridged[h.Addr] = true
				res = append(res, &Resource{Addr: LanBridgeAddr(h.Name), Kind: kinds.LanBridge, Host: h.Addr, Attrs: map[string]string{
					// The LAN interface is the one holding this address on
					// the host (hostnet.LanBridge finds it there).
					"host": h.Addr, "ifname": LanBridgeIfname,
					"address": netip.PrefixFrom(h.Address, nw.CIDR.Bits()).String(),
				}, Deps: []string{h.Addr}})
			}
			guest(guestSpec{addr: v.Addr, kind: kinds.VM, name: v.Name, host: h.Addr, parent: LanBridgeAddr(h.Name), ifname: LanBridgeIfname,
				address: v.Address, bits: nw.CIDR.Bits(), gateway: Gateway(nw.CIDR), shaping: v.Shaping, extra: map[string]string{"mode": v.Mode}})
			continue
		}
		if !natted[h.Addr] {
			natted[h.Addr] = true
			gw := h.NatCIDR.Addr().Next()
			res = append(res, &Resource{Addr: VMNatAddr(h.Name), Kind: kinds.Bridge, Host: h.Addr, Attrs: map[string]string{
				"host": h.Addr, "ifname": VMNatIfname, "cidr": h.NatCIDR.String(), "gateway": gw.String(), "masquerade": "true",
			}, Deps: []string{h.Addr}})
			rules[h.Addr] = append(rules[h.Addr], hostnet.NatRule{Owner: VMNatAddr(h.Name), Kind: "masquerade", Source: h.NatCIDR, NotDest: h.NatCIDR})
		}
		guest(guestSpec{addr: v.Addr, kind: kinds.VM, name: v.Name, host: h.Addr, parent: VMNatAddr(h.Name), ifname: VMNatIfname,
			address: v.Address, bits: h.NatCIDR.Bits(), gateway: h.NatCIDR.Addr().Next(), ports: v.Ports, shaping: v.Shaping, extra: map[string]string{"mode": v.Mode}})
	}
	// Pod networks: every cluster host gets cni0 with its subnet's first
	// address and, for vxlan, a flannel-style device; each knows every
	// other host's subnet, address and VTEP MAC.
	podNets := map[string]*config.PodNetwork{}
	for _, pn := range lab.PodNetworks {
		podNets[pn.Addr] = pn
		var nodeAddrs []netip.Addr
		for _, h := range pn.Hosts {
			nodeAddrs = append(nodeAddrs, hosts[h].Address)
		}
		for _, h := range pn.Hosts {
			hh := hosts[h]
			var peers []string
			for _, o := range pn.Hosts {
				if o == h {
					continue
				}
				mac := ""
				if pn.Backend == "vxlan" {
					mac = hostnet.VtepMAC(lab.Name, hosts[o].Name, pn.VNI)
				}
				peers = append(peers, hostnet.Peer{Subnet: pn.Subnets[o], Host: hosts[o].Address, MAC: mac}.String())
			}
			sort.Strings(peers)
			a := map[string]string{
				"host": h, "network": pn.Addr, "backend": pn.Backend, "bridge": PodBridgeIfname, "subnet": pn.Subnets[h].String(),
				"cluster": pn.CIDR.String(), "vxlan": "", "vni": "", "port": "", "local": hh.Address.String(), "mac": "", "mtu": "",
				"peers": strings.Join(peers, " "),
			}
			if pn.Backend == "vxlan" {
				a["vxlan"], a["vni"], a["port"] = fmt.Sprintf("flannel.%d", pn.VNI), strconv.Itoa(pn.VNI), strconv.Itoa(pn.Port)
				a["mac"], a["mtu"] = hostnet.VtepMAC(lab.Name, hh.Name, pn.VNI), strconv.Itoa(VxlanMTU)
			}
			res = append(res, &Resource{Addr: PodNetAddr(hh.Name), Kind: kinds.PodNet, Host: h, Attrs: a, Deps: []string{h}})
			// Pod traffic stays unNATed inside the cluster (pods and nodes);
			// only what leaves it is masqueraded.
			owner := PodNetAddr(hh.Name)
			sub := pn.Subnets[h]
			rules[h] = append(rules[h], hostnet.NatRule{Owner: owner, Kind: "accept", Source: sub, Dest: pn.CIDR})
			for _, na := range nodeAddrs {
				rules[h] = append(rules[h], hostnet.NatRule{Owner: owner, Kind: "accept", Source: sub, Dest: netip.PrefixFrom(na, 32)})
			}
			rules[h] = append(rules[h], hostnet.NatRule{Owner: owner, Kind: "masquerade", Source: sub})
		}
	}
	for _, p := range lab.Pods {
		pn := podNets[p.Network]
		sub := pn.Subnets[p.Host]
		mtu := 0
		if pn.Backend == "vxlan" {
			mtu = VxlanMTU
		}
		guest(guestSpec{addr: p.Addr, kind: kinds.Pod, name: p.Name, host: p.Host, parent: PodNetAddr(hosts[p.Host].Name), ifname: PodBridgeIfname,
			address: p.Address, bits: sub.Bits(), gateway: sub.Addr().Next(), mtu: mtu, shaping: p.Shaping, extra: map[string]string{"network": p.Network}, deps: []string{p.Network}})
	}
	// Extra interfaces on tenant segments, eth1 and on, of any guest.
	nic := func(guestAddr, guestName, host string, nics []config.NIC) {
		for i, c := range nics {
			sg := segments[c.Segment]
			addr := fmt.Sprintf("%s/nic[%d]", guestAddr, i)
			res = append(res, &Resource{Addr: addr, Kind: kinds.NIC, Host: host, Attrs: map[string]string{
				"host": host, "guest": guestAddr, "netns": n.Netns(guestName), "ifname": fmt.Sprintf("eth%d", i+1),
				"veth": n.HostVeth(addr), "bridge": SegmentLinkAddr(sg.Name, hosts[host].Name), "bridge_ifname": "lns-" + sg.Name,
				"address": c.Address.String(), "bits": strconv.Itoa(sg.CIDR.Bits()), "mtu": strconv.Itoa(VxlanMTU),
			}, Deps: []string{guestAddr, SegmentLinkAddr(sg.Name, hosts[host].Name)}})
		}
	}
	for _, c := range lab.Containers {
		nic(c.Addr, c.Name, c.Host, c.NICs)
	}
	for _, v := range lab.VMs {
		nic(v.Addr, v.Name, v.Host, v.NICs)
	}
	for _, p := range lab.Pods {
		nic(p.Addr, p.Name, p.Host, p.NICs)
	}
	// Links: a veth pair on one host; across hosts an end on each, tunnelled.
	for _, k := range lab.Links {
		end := func(side string, e config.Endpoint, a map[string]string) {
			var addrs []string
			for _, p := range e.Addresses {
				addrs = append(addrs, p.String())
			}
			gw := ""
			if e.Gateway.IsValid() {
				gw = e.Gateway.String()
			}
			a[side+"_node"], a[side+"_netns"], a[side+"_ifname"] = e.Node, nodes[e.Node], e.Ifname
			a[side+"_addrs"], a[side+"_gateway"] = strings.Join(addrs, " "), gw
		}
		x, y := k.Ends[0], k.Ends[1]
		shaped := func(a map[string]string) map[string]string {
			for key, v := range shapingAttrs(k.Shaping) {
				a[key] = v
			}
			return a
		}
		if !k.CrossHost() {
			a := shaped(map[string]string{"host": x.Host, "type": "veth", "mtu": strconv.Itoa(k.MTU)})
			end("a", x, a)
			end("b", y, a)
			res = append(res, &Resource{Addr: k.Addr, Kind: kinds.Link, Host: x.Host, Attrs: a, Deps: deps(k.Addr, x.Host)})
			continue
		}
		for i, e := range k.Ends {
			other := k.Ends[1-i]
			a := shaped(map[string]string{"host": e.Host, "type": "vxlan", "mtu": strconv.Itoa(k.MTU),
				"vni": strconv.Itoa(k.VNI), "port": strconv.Itoa(k.Port),
				"local": hosts[e.Host].Address.String(), "remote": hosts[other.Host].Address.String(),
				"peer": LinkEndAddr(k.Addr, 1-i)})
			end("a", e, a)
			res = append(res, &Resource{Addr: LinkEndAddr(k.Addr, i), Kind: kinds.Link, Host: e.Host, Attrs: a,
				Deps: []string{e.Host, e.Node}})
		}
	}
	process := func(addr, name, on string, command []string, deps []string) {
		host, netns := nodeHost[on], nodes[on]
		hn := hosts[host].Name
		a := map[string]string{
			"on": on, "host": host, "host_name": hn, "netns": netns, "command": kinds.CommandAttr(command),
			"owner": n.Owner(hn, addr), "log": n.LogFile(name),
		}
		if iso := isolated[on]; iso != nil {
			// It runs in its container's namespaces, and is restarted
			// when the container's files change.
			files := map[string]string{}
			for k, v := range iso {
				if strings.HasPrefix(k, kinds.FilePrefix) {
					files[k] = v
				}
			}
			a["mount_ns"], a["uts_ns"], a["node_files"] = iso["mount_ns"], iso["uts_ns"], kinds.FilesDigest(files)
		}
		res = append(res, &Resource{Addr: addr, Kind: kinds.Process, Host: host, Attrs: a, Deps: deps})
	}
	for _, p := range lab.Processes {
		process(p.Addr, p.Name, p.On, p.Command, deps(p.Addr, p.On))
	}
	// A pod's containers are processes sharing the pod's namespace.
	for _, p := range lab.Pods {
		for _, c := range p.Containers {
			process(p.Addr+"/"+c.Name, p.Name+"."+c.Name, p.Addr, c.Command, []string{p.Addr})
		}
	}
	// One nat table per host that has rules.
	for _, h := range lab.Hosts {
		rs := rules[h.Addr]
		if len(rs) == 0 {
			continue
		}
		hostnet.SortRules(rs)
		res = append(res, &Resource{Addr: NatTableAddr(h.Name), Kind: kinds.NatTable, Host: h.Addr, Attrs: map[string]string{
			"host": h.Addr, "table": n.Table(), "rules": kinds.RulesAttr(rs),
		}, Deps: []string{h.Addr}})
	}
	Sort(res)
	for _, r := range res {
		if r.Kind == kinds.Network {
			r.Attrs["provider"] = networkProvider[r.Addr]
			if r.Attrs["provider"] == "" {
				r.Attrs["provider"] = "netns"
			}
		}
		// An empty attribute is an absent one (every reader gets "" for a
		// missing key): plans do not list `delay = ""`, and the state of
		// 1,000 containers decodes in 60% of the time.
		for k, v := range r.Attrs {
			if v == "" {
				delete(r.Attrs, k)
			}
		}
	}
	return res
}

// Names of derived resources and the kernel objects labnet picks itself.
const (
	LanBridgeIfname = "lanbr"  // bridged VMs' bridge holding the host's LAN interface
	VMNatIfname     = "virbr0" // nat VMs' bridge, as libvirt names it
	PodBridgeIfname = "cni0"   // a pod network's bridge on each host, as CNI names it
	VxlanMTU        = 1450     // underlay 1500 - 50 bytes of VXLAN encapsulation
)

func LanBridgeAddr(host string) string { return "lan_bridge." + host }
func VMNatAddr(host string) string     { return "vm_nat." + host }
func PodNetAddr(host string) string    { return "pod_net." + host }
func SegmentLinkAddr(seg, host string) string {
	return "segment_link." + seg + "." + host
}

// LinkEndAddr is the address of one host's end of a cross-host link.
func LinkEndAddr(link string, i int) string { return fmt.Sprintf("%s/end[%d]", link, i) }

// NatTableAddr is the address of a host's nat table resource.
func NatTableAddr(hostName string) string { return "nat_table." + hostName }

// Gateway is the address labnet reserves in a network: its last usable one.
func Gateway(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= (1 << (32 - p.Bits())) - 1 // broadcast
	v--
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Sort orders resources by kind, then address.
func Sort(rs []*Resource) {
	sort.SliceStable(rs, func(i, j int) bool {
		if oi, oj := kinds.Of(rs[i].Kind).Order, kinds.Of(rs[j].Kind).Order; oi != oj {
			return oi < oj
		}
		return rs[i].Addr < rs[j].Addr
	})
}

func compact(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// shapingAttrs are a guest's shaping attributes: "rate" ("100mbit"),
// "delay" ("20ms") and "loss" ("0.5%") in canonical form, "" when unset
// (a zero delay or loss is unset: it shapes nothing). They change in
// place: the qdisc is replaced, the guest stays.
func shapingAttrs(s config.Shaping) map[string]string {
	a := map[string]string{"rate": s.Rate, "delay": "", "loss": ""}
	if s.Delay > 0 {
		a["delay"] = s.Delay.String()
	}
	if s.Loss > 0 {
		a["loss"] = config.FormatLoss(s.Loss)
	}
	return a
}

// imageAttrs are the attributes of a container run by runc from an image.
func imageAttrs(n hostnet.Names, c *config.Container, hostName string) map[string]string {
	im := c.Image
	caps := append(append([]string{}, hostnet.DefaultCaps...), im.CapAdd...)
	sort.Strings(caps)
	caps = compact(caps)
	a := map[string]string{
		"hostname": c.Name, "image": im.Ref, "image_archive": im.Archive, "image_digest": im.Digest,
		"runc_id": n.RuncID(c.Name), "bundle": n.Bundle(c.Name), "log": n.LogFile(c.Name), "owner": n.Owner(hostName, c.Addr),
		"args": kinds.CommandAttr(im.Args), "workdir": im.Cwd, "user": fmt.Sprintf("%d:%d", im.UID, im.GID),
		"cgroup": n.Cgroup(hostName, c.Name),
	}
	if im.Limits.Memory > 0 {
		a["memory"] = hostnet.FormatMemory(im.Limits.Memory)
	}
	if im.Limits.CPUQuota > 0 {
		a["cpus"] = hostnet.FormatCPUs(float64(im.Limits.CPUQuota) / config.CPUPeriod)
	}
	if len(im.Env) > 0 {
		a["env"] = kinds.CommandAttr(im.Env)
	}
	if im.Privileged {
		a["privileged"] = "true"
	} else {
		a["caps"] = kinds.CommandAttr(caps)
	}
	return a
}

// Package expand turns a decoded lab into the resources labnet manages, each
// with the flat attributes it is compared and stored by, and rebuilds the
// kernel objects of a resource from those attributes (so a resource that is
// only in the state can still be deleted). It is pure.
package expand

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/provider"
)

// Resource kinds.
const (
	KindNetwork   = "network"
	KindHost      = "host"
	KindBridge    = "bridge"
	KindContainer = "container"
	KindProcess   = "process"
	KindNatTable  = "nat_table"
)

// Resource is one thing labnet makes.
type Resource struct {
	Addr  string
	Kind  string
	Host  string // host resource it lives on ("" for networks; itself for hosts)
	Attrs map[string]string
	Deps  []string
}

// ForceNew lists, per kind, the attributes whose change replaces the
// resource; any other attribute is changed in place.
var ForceNew = map[string][]string{
	KindNetwork:   {"name", "cidr", "gateway"},
	KindHost:      {"name", "network", "address", "provider", "network_cidr", "network_name", "network_gateway"},
	KindBridge:    {"host", "ifname", "cidr", "gateway"},
	KindContainer: {"host", "bridge", "bridge_ifname", "netns", "veth"},
	KindProcess:   {"on", "host", "host_name", "netns", "command", "owner", "log"},
	KindNatTable:  {"host"},
}

// Parent is the attribute naming the resource a resource lives inside:
// replacing the parent replaces the child.
var Parent = map[string]string{
	KindHost:      "network",
	KindBridge:    "host",
	KindContainer: "bridge",
	KindProcess:   "on",
	KindNatTable:  "host",
}

// Order of kinds, for stable listings.
var kindOrder = map[string]int{KindNetwork: 0, KindHost: 1, KindBridge: 2, KindContainer: 3, KindNatTable: 4, KindProcess: 5}

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
		res = append(res, &Resource{Addr: nw.Addr, Kind: KindNetwork, Attrs: map[string]string{
			"name": nw.Name, "cidr": nw.CIDR.String(), "gateway": Gateway(nw.CIDR).String(),
		}, Deps: deps(nw.Addr)})
	}
	hosts := map[string]*config.Host{}
	for _, h := range lab.Hosts {
		hosts[h.Addr] = h
		nw := networks[h.Network]
		res = append(res, &Resource{Addr: h.Addr, Kind: KindHost, Host: h.Addr, Attrs: map[string]string{
			"name": h.Name, "network": h.Network, "address": h.Address.String(), "provider": h.Provider,
			"network_name": nw.Name, "network_cidr": nw.CIDR.String(), "network_gateway": Gateway(nw.CIDR).String(),
		}, Deps: deps(h.Addr, h.Network)})
	}
	bridges := map[string]*config.Bridge{}
	rules := map[string][]hostnet.NatRule{}
	for _, b := range lab.Bridges {
		bridges[b.Addr] = b
		res = append(res, &Resource{Addr: b.Addr, Kind: KindBridge, Host: b.Host, Attrs: map[string]string{
			"host": b.Host, "ifname": b.Ifname, "cidr": b.CIDR.String(), "gateway": b.Gateway.String(),
			"masquerade": strconv.FormatBool(b.Masquerade),
		}, Deps: deps(b.Addr, b.Host)})
		if b.Masquerade {
			rules[b.Host] = append(rules[b.Host], hostnet.NatRule{Owner: b.Addr, Kind: "masquerade", Source: b.CIDR, Bridge: b.Ifname})
		}
	}
	containers := map[string]*config.Container{}
	for _, c := range lab.Containers {
		containers[c.Addr] = c
		b := bridges[c.Bridge]
		var ports []string
		for _, p := range c.Ports {
			ports = append(ports, fmt.Sprintf("%d/%s->%d", p.HostPort, p.Protocol, p.Port))
			rules[c.Host] = append(rules[c.Host], hostnet.NatRule{Owner: c.Addr, Kind: "dnat", Proto: p.Protocol,
				DstAddr: hosts[c.Host].Address, DstPort: p.HostPort, ToAddr: c.Address, ToPort: p.Port})
		}
		res = append(res, &Resource{Addr: c.Addr, Kind: KindContainer, Host: c.Host, Attrs: map[string]string{
			"host": c.Host, "bridge": c.Bridge, "bridge_ifname": b.Ifname, "address": c.Address.String(),
			"bits": strconv.Itoa(b.CIDR.Bits()), "gateway": b.Gateway.String(),
			"netns": n.Netns(c.Name), "veth": n.HostVeth(c.Addr), "ports": strings.Join(ports, " "),
		}, Deps: deps(c.Addr, c.Host, c.Bridge)})
	}
	for _, p := range lab.Processes {
		host, netns := p.On, ""
		if c, ok := containers[p.On]; ok {
			host, netns = c.Host, n.Netns(c.Name)
		}
		cmd, _ := json.Marshal(p.Command)
		hn := hosts[host].Name
		res = append(res, &Resource{Addr: p.Addr, Kind: KindProcess, Host: host, Attrs: map[string]string{
			"on": p.On, "host": host, "host_name": hn, "netns": netns, "command": string(cmd),
			"owner": n.Owner(hn, p.Addr), "log": n.LogFile(p.Name),
		}, Deps: deps(p.Addr, p.On)})
	}
	// One nat table per host that has rules.
	for _, h := range lab.Hosts {
		rs := rules[h.Addr]
		if len(rs) == 0 {
			continue
		}
		hostnet.SortRules(rs)
		b, _ := json.Marshal(rs)
		res = append(res, &Resource{Addr: NatTableAddr(h.Name), Kind: KindNatTable, Host: h.Addr, Attrs: map[string]string{
			"host": h.Addr, "table": n.Table(), "rules": string(b),
		}, Deps: []string{h.Addr}})
	}
	Sort(res)
	return res
}

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
		if kindOrder[rs[i].Kind] != kindOrder[rs[j].Kind] {
			return kindOrder[rs[i].Kind] < kindOrder[rs[j].Kind]
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

// The functions below rebuild kernel objects from attributes.

func mustAddr(s string) netip.Addr     { a, _ := netip.ParseAddr(s); return a }
func mustPrefix(s string) netip.Prefix { p, _ := netip.ParsePrefix(s); return p }

// NetworkOf rebuilds the provider's view of a network resource.
func NetworkOf(addr string, a map[string]string) provider.Network {
	return provider.Network{Addr: addr, Name: a["name"], CIDR: mustPrefix(a["cidr"]), Gateway: mustAddr(a["gateway"])}
}

// HostOf rebuilds the provider's view of a host resource.
func HostOf(addr string, a map[string]string) provider.Host {
	return provider.Host{Addr: addr, Name: a["name"], Address: mustAddr(a["address"]),
		Network: provider.Network{Addr: a["network"], Name: a["network_name"], CIDR: mustPrefix(a["network_cidr"]), Gateway: mustAddr(a["network_gateway"])}}
}

func BridgeOf(addr string, a map[string]string) hostnet.Bridge {
	return hostnet.Bridge{Addr: addr, Ifname: a["ifname"], CIDR: mustPrefix(a["cidr"]), Gateway: mustAddr(a["gateway"])}
}

func ContainerOf(addr string, a map[string]string) hostnet.Container {
	bits, _ := strconv.Atoi(a["bits"])
	return hostnet.Container{Addr: addr, Netns: a["netns"], HostVeth: a["veth"], Bridge: a["bridge_ifname"],
		Address: mustAddr(a["address"]), Bits: bits, Gateway: mustAddr(a["gateway"])}
}

func ProcessOf(addr string, a map[string]string) hostnet.Process {
	var cmd []string
	_ = json.Unmarshal([]byte(a["command"]), &cmd)
	return hostnet.Process{Addr: addr, Owner: a["owner"], Netns: a["netns"], Command: cmd, Log: a["log"]}
}

func RulesOf(a map[string]string) []hostnet.NatRule {
	var rs []hostnet.NatRule
	_ = json.Unmarshal([]byte(a["rules"]), &rs)
	return rs
}

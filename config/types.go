// Package config turns a lab directory of HCL files into a typed, validated,
// fully resolved Lab. It is pure: it never touches a host.
package config

import (
	"net/netip"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Lab is a decoded lab: every resource instance with its arguments evaluated,
// references resolved and addresses allocated.
type Lab struct {
	Name string // lab name, [a-z][a-z0-9-]*, at most MaxLabName chars
	Dir  string // directory the lab was loaded from

	Networks   []*Network
	Hosts      []*Host
	Bridges    []*Bridge
	Containers []*Container
	Processes  []*Process
	Checks     []*Check
	Outputs    []*Output

	// Deps maps a resource instance address (e.g. "container.web[0]") to the
	// addresses of the resource instances it references, sorted.
	Deps map[string][]string
}

// Resource is what every resource instance shares.
type Resource struct {
	Addr  string    // instance address: "host.node[0]", `host.node["a"]`, "network.lan"
	Name  string    // kernel-safe instance name: "node-0", "node-a", "lan"
	Range hcl.Range // the block's definition range, for diagnostics
}

type Network struct {
	Resource
	CIDR netip.Prefix
}

type Host struct {
	Resource
	Network  string     // address of the network, e.g. "network.lan"
	Address  netip.Addr // LAN address (allocated when omitted)
	Provider string     // "netns" (default), "ssh", "lima"
}

type Bridge struct {
	Resource
	Host       string // host address
	Ifname     string // kernel interface name (the block label unless name is set)
	CIDR       netip.Prefix
	Gateway    netip.Addr // first host address of CIDR
	Masquerade bool
}

type Port struct {
	HostPort int
	Port     int
	Protocol string // "tcp" or "udp"
	Range    hcl.Range
}

type Container struct {
	Resource
	Host    string // host address
	Bridge  string // bridge address
	Address netip.Addr
	Ports   []Port
}

type Process struct {
	Resource
	On      string // address of a host or container
	Command []string
}

type Check struct {
	Resource
	From    string         // node address (host or container)
	To      string         // node address, "" when not set
	Kind    string         // "ping", "tcp", "udp", "exec"
	Port    int            // tcp/udp port (the listener's port in To)
	Exec    string         // shell command for Kind == "exec"
	Dial    netip.AddrPort // what the client dials (port 0 for ping/exec)
	Expect  string         // "reach" or "blocked"
	Source  netip.Addr     // expected source seen by the listener; invalid when unset
	Timeout time.Duration
}

type Output struct {
	Name        string
	Value       cty.Value
	Description string
	Sensitive   bool
}

// Limits on names, so kernel object names built from them fit.
const (
	MaxLabName  = 20 // nft table "labnet_<lab>", netns "labnet-<lab>"
	MaxHostName = 12 // underlay veth "u-<host>" must fit IFNAMSIZ-1 = 15
	MaxNodeName = 40 // containers: netns names; host-side veths are hashed
)

// Package config turns a lab directory of HCL files into a typed, validated,
// fully resolved Lab. It is pure: it never touches a host.
package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Lab is a decoded lab: every resource instance with its arguments evaluated,
// references resolved and addresses allocated.
type Lab struct {
	Name string // lab name, [a-z][a-z0-9-]*, at most MaxLabName chars
	Dir  string // directory the lab was loaded from

	Outputs []*Output

	// lists holds each kind's instances, []*T by block type, in
	// declaration order; each kind's file has its accessor (Lab.Links).
	lists  map[string]any
	byAddr map[string]any // instance address -> its *T

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
	Provider string     // a registered provider's name (provider.Names); default provider.Default

	// NatCIDR is the NAT bridge ("virtual router") of the host's nat-mode
	// VMs: attribute nat_network, default 192.168.122.0/24.
	NatCIDR netip.Prefix
	// Settings are its provider's block's arguments (ssh { user = ... }),
	// defaults included, by name; nil for a provider without a block.
	Settings map[string]string
}

// VM is a guest with the plumbing of a real VM's NIC.
type VM struct {
	Resource
	Host    string
	Mode    string     // "bridged", "nat" or "segment"
	Segment string     // segment address, for mode = "segment"
	Address netip.Addr // bridged: in the host's network; nat: in the host's NatCIDR
	Ports   []Port     // nat only: host_port on the host's LAN address -> the VM
	Shaping            // rate, delay, loss on the VM's NIC
	NICs    []NIC      // nic blocks: eth1, eth2, ... on tenant segments
}

// PodNetwork is a flat pod network across hosts (flannel's model).
type PodNetwork struct {
	Resource
	CIDR       netip.Prefix
	SubnetBits int      // default 8: a /24 per host in a /16
	Backend    string   // "vxlan" (default) or "host-gw"
	VNI        int      // default 1
	Port       int      // default 8472
	Hosts      []string // host addresses in the cluster; default every host of the lab, in Lab.Hosts order
	// Subnets gives each cluster host its pod subnet: the (i+1)-th subnet
	// of CIDR for the i-th host in Hosts, so adding a host never moves
	// another host's subnet.
	Subnets map[string]netip.Prefix
}

// Pod is one network namespace on a host with an address from the host's
// pod subnet; its containers are processes sharing that namespace.
type Pod struct {
	Resource
	Host       string
	Network    string // pod_network address
	Address    netip.Addr
	Containers []*PodContainer
	Shaping          // rate, delay, loss on the pod's eth0
	NICs       []NIC // nic blocks: eth1, eth2, ... on tenant segments
}

// PodContainer is a `container "app" { ... }` block inside a pod: a
// process in the pod's namespace (command), or a container run from an
// image that shares the pod's network and UTS namespaces (Image).
type PodContainer struct {
	Name    string // label, [a-z][a-z0-9_-]*
	Command []string
	Range   hcl.Range
	// Image: run by runc from an image (Command is then its arguments),
	// with PrivateDirs and Files in its own layer.
	Image       *ContainerImage
	PrivateDirs []string
	Files       []File
}

// Segment is an L2 segment stretched across hosts over VXLAN (a tenant network).
type Segment struct {
	Resource
	VNI   int
	CIDR  netip.Prefix
	Hosts []string // host addresses the segment reaches
	Port  int      // VXLAN UDP port, default 4789
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
	Bridge  string // bridge address ("" when the container is on a segment)
	Segment string // segment address, instead of a bridge ("" when on a bridge)
	Address netip.Addr
	Ports   []Port
	Shaping       // rate, delay, loss on the container's eth0
	NICs    []NIC // nic blocks: eth1, eth2, ... on tenant segments
	// PrivateDirs are empty tmpfs mounts in the container's own mount
	// namespace (every container has one, and a UTS namespace).
	PrivateDirs []string
	Files       []File // file blocks, in source order
	// Image: run by runc from an image (nil: host binaries through
	// process blocks, as before).
	Image *ContainerImage
}

// File is a file written inside a container's mount namespace, under one
// of its private dirs, before its processes start.
type File struct {
	Path    string // absolute and clean
	Mode    uint32 // permission bits, at most 07777
	Content []byte // content, or the source file's bytes read at load time
	Range   hcl.Range
}

type Process struct {
	Resource
	On      string // address of a host, container, vm or pod
	Command []string
}

type Check struct {
	Resource
	From    string         // node address (host, container, vm or pod)
	To      string         // node address, "" when not set
	Kind    string         // "ping", "tcp", "udp", "exec", "route"
	Port    int            // tcp/udp port (the listener's port in To)
	Exec    string         // shell command for Kind == "exec"
	Dial    netip.AddrPort // what the client dials (port 0 for ping/exec)
	Expect  string         // "reach" or "blocked"
	Source  netip.Addr     // expected source seen by the listener; invalid when unset
	Timeout time.Duration
	// Route: a route check's destination, read from From's routing
	// table; Nexthops (0: any) and Via (nil: any) what it must have.
	Route    netip.Prefix
	Nexthops int
	Via      []netip.Addr
	// ExpectOutput: an exec check reaches only when its output matches
	// (nil: any output).
	ExpectOutput *regexp.Regexp
	// Within: retried until it passes or this much time has gone (0: one
	// try); how long it took is the convergence a lab measures.
	Within time.Duration
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
	MaxNodeName = 40 // containers, vms, pods: netns names; host-side veths are hashed

	MaxSegmentName    = 10 // kernel links (vxlan, bridge) are named from it
	MaxPodNetworkName = 20
)

// Count is how many instances of one kind a lab declares.
type Count struct {
	Kind string // singular noun, as in the lab file: "host", "pod container"
	N    int
}

// String is "3 hosts" or "1 vm".
func (c Count) String() string {
	if c.N == 1 {
		return "1 " + c.Kind
	}
	if c.Kind == "process" {
		return fmt.Sprintf("%d processes", c.N)
	}
	return fmt.Sprintf("%d %ss", c.N, c.Kind)
}

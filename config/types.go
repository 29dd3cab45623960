// Package config turns a lab directory of HCL files into a typed, validated,
// fully resolved Lab. It is pure: it never touches a host.
package config

import (
	"fmt"

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

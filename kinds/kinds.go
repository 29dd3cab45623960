// Package kinds holds every kind of resource labnet manages, each in one
// file: its traits (order, what forces a replacement, what it lives
// inside), how its attributes parse into its typed spec (an error names
// the attribute), what refresh must read to judge it, how what was read is
// judged, and the steps that create, update and delete it. plan and apply
// diff, stage and transport through this registry; they know no kind.
package kinds

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/labnet-dev/labnet/hostnet"
)

// The kinds' names, as they appear in addresses and the state.
const (
	Network   = "network"
	Host      = "host"
	Bridge    = "bridge"
	Container = "container"
	Process   = "process"
	NatTable  = "nat_table"
	VM        = "vm"
	Pod       = "pod"
	// Derived per-host kinds.
	LanBridge   = "lan_bridge"   // the host's LAN interface on a bridge, for bridged VMs
	PodNet      = "pod_net"      // the host's share of a pod network
	SegmentLink = "segment_link" // the host's port into a tenant segment
	NIC         = "nic"          // a guest's extra interface on a segment
	Link        = "link"         // a point-to-point wire between two nodes (one per host)
)

// Attrs are a resource's attributes, as the state stores and plans show
// them.
type Attrs = map[string]string

// Spec is a resource's typed spec, as the state file holds it: one JSON
// member per attribute, named as the attribute, with numbers as numbers,
// booleans as booleans, lists as arrays and structured values as objects.
// A zero value is an absent attribute; no number of any kind has 0 in its
// range, so a required one left out is reported missing, not read as 0.
type Spec interface {
	// Attrs are the flat attributes plan and apply diff and show: exactly
	// those the spec was parsed from (TestSpecRoundTrip).
	Attrs() Attrs
}

// Info is what plan and apply need to know of a kind besides its steps.
type Info struct {
	Name  string
	Order int // rank in listings and plans
	// ForceNew: the attributes whose change replaces the resource; any
	// other changes in place.
	ForceNew []string
	// Parents: the attributes naming the resources it lives inside (a
	// link: both its nodes); a resource is remade with any of them. An
	// empty attribute names none.
	Parents []string
	// WithHost: it is also remade when its host is (it lives in the host's
	// kernel, not only in its parent).
	WithHost bool
	// Provider: "network" or "host" when the host's provider makes it,
	// "" when a script on its host does.
	Provider string
	// Node: commands and checks run in it (hosts and guests).
	Node bool
	// Guest: a network namespace with eth0 on a bridge of its host
	// (container, vm, pod): a node commands and checks run in, removed
	// with its namespace.
	Guest bool
	// Why, when set, gives the plan's reasons for a change between the
	// state's attributes and the lab's that the attributes alone do not
	// say (an image reference unchanged whose digest is another now).
	Why func(before, after Attrs) []string
}

// Kind is one kind of resource.
type Kind interface {
	Info() Info
	// Spec parses attributes into the kind's typed spec, and says which
	// attribute is wrong or not one of the kind's: a hand-broken state
	// stops before any host is touched. The state file holds the spec.
	Spec(addr string, a Attrs) (Spec, error)
	// NewSpec is an empty spec for the state file to be decoded into.
	NewSpec() Spec
	// Reads adds to r what refresh must read on the resource's host to
	// judge it and to step it.
	Reads(r *Reads, a Attrs)
	// Judge compares what refresh read with what the resource's steps
	// make; going: the resource is deleted, only whether it is there counts.
	Judge(n hostnet.Names, addr string, a Attrs, k *hostnet.Observed, going bool) (hostnet.Verdict, error)
	// Step is the resource's share of its host's script for op. k (may be
	// nil) is what refresh read on the host, so that a step touches only
	// what is there.
	Step(n hostnet.Names, op Op, k *hostnet.Observed) (hostnet.Step, error)
}

// Faulter is a kind that can be broken on purpose (labnet fault, a
// scenario's fault step): refresh then sees the fault as drift, until it
// is undone or apply repairs it.
type Faulter interface {
	// Faults lists its actions ("down", "up"; "stop", "start").
	Faults() []string
	// Fault is the step that does action to the resource.
	Fault(n hostnet.Names, addr string, a Attrs, action string) (hostnet.Step, error)
}

// Described is a kind that inspect lists besides the nodes (links).
type Described interface {
	// Describe is what inspect's ADDRESS column shows of it.
	Describe(a Attrs) []string
}

// Place is where commands run in a node: its namespaces on its host.
type Place struct {
	Netns          string // "" for the host's own
	MountNS, UTSNS string // a container's own namespaces ("" for none)
	Runc, Log      string // an image container's runc id and output file
	Address        netip.Addr
}

// Located is a kind that labnet exec, ssh, logs and checks run in.
type Located interface {
	Place(addr string, a Attrs) (Place, error)
}

// PlaceOf says where commands run in a resource; ok is false for a kind
// that is no node.
func PlaceOf(kind, addr string, a Attrs) (p Place, ok bool, err error) {
	l, isNode := registry[kind].(Located)
	if !isNode {
		return Place{}, false, nil
	}
	p, err = l.Place(addr, a)
	return p, true, err
}

// DescriberOf returns the kind's Described, if it is one.
func DescriberOf(kind string) (Described, bool) {
	d, ok := registry[kind].(Described)
	return d, ok
}

// FaulterOf returns the kind's Faulter, if it is one.
func FaulterOf(kind string) (Faulter, bool) {
	f, ok := registry[kind].(Faulter)
	return f, ok
}

// Op is what a step does to one resource.
type Op struct {
	Addr   string
	Delete bool // remove it (a deletion, or the first half of a replacement)
	Update bool // change it in place (when not Delete)
	// Replace: the deletion is half of a replacement (the same names are
	// made again at once).
	Replace bool
	Before  Attrs // the state's (nil when new)
	After   Attrs // the lab's (nil when deleted)
}

// Attrs are what the step works from: the lab's, or for a deletion what
// names what goes: the state's, or for a replacement of something found
// on a host but not in the state (a lost state) the lab's, which is how
// refresh found it.
func (o Op) Attrs() Attrs {
	if o.Delete && o.Before != nil {
		return o.Before
	}
	if o.After == nil {
		return o.Before
	}
	return o.After
}

var registry = map[string]Kind{}

// register adds a kind; each kind's file registers itself.
func register(k Kind) {
	name := k.Info().Name
	if _, dup := registry[name]; dup {
		panic("kinds: " + name + " registered twice")
	}
	registry[name] = k
}

// Get returns a kind by name.
func Get(name string) (Kind, error) {
	k, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown kind %q", name)
	}
	return k, nil
}

// Of returns the info of a kind; an unknown kind has the zero Info with
// its name (and sorts last).
func Of(name string) Info {
	if k, ok := registry[name]; ok {
		return k.Info()
	}
	return Info{Name: name, Order: 1 << 20}
}

// All lists the registered kinds in order.
func All() []Kind {
	var out []Kind
	for _, k := range registry {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Info().Order < out[j].Info().Order })
	return out
}

// judge parses a resource's spec and lets the kernel object judge what was
// read: the Judge of most kinds.
func judge[T interface {
	Judge(hostnet.Names, *hostnet.Observed) hostnet.Verdict
}](parse func(string, Attrs) (T, error), n hostnet.Names, addr string, a Attrs, k *hostnet.Observed) (hostnet.Verdict, error) {
	spec, err := parse(addr, a)
	if err != nil {
		return hostnet.Verdict{}, err
	}
	return spec.Judge(n, k), nil
}

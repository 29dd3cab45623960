// Package provider says where hosts come from. Each provider creates,
// observes and removes whole hosts and hands back a remote.Target; what runs
// on a host afterwards is the same for every provider and goes over SSH.
package provider

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/labnet-dev/labnet/remote"
	"golang.org/x/crypto/ssh"
)

// Network is the LAN that hosts share.
type Network struct {
	Addr    string // resource address, "network.lan"
	Name    string // "lan"
	CIDR    netip.Prefix
	Gateway netip.Addr // labnet's own address on the LAN (reserved)
}

// Host is one host as the lab wants it.
type Host struct {
	Addr    string // resource address, "host.node[0]"
	Name    string // kernel-safe name, "node-0"
	Network Network
	Address netip.Addr
}

// Record is what a provider remembers about a host it made, in the state.
type Record struct {
	PID     int    `json:"pid,omitempty"`      // netns: holder process
	HostKey string `json:"host_key,omitempty"` // pinned, authorized_keys form
	User    string `json:"user,omitempty"`
	SSHAddr string `json:"ssh_addr,omitempty"` // ip:port labnet dials
	LANAddr string `json:"lan_addr,omitempty"` // lima: the address Lima gave the VM (the lab's own is added beside it)
}

// Status is what is really there.
type Status struct {
	Exists bool   // the host (holder, VM, machine) exists
	SSHUp  bool   // its sshd is running
	Reason string // why not, for the plan
}

// Keys are the lab's client key and the host key signer labnet generates
// for hosts whose sshd it runs itself.
type Keys struct {
	Client ssh.Signer
}

// Provider makes hosts.
type Provider interface {
	Name() string
	// UseHost tells the provider a host's own settings from its
	// attributes (ssh_*, lima_*) before any call about it.
	UseHost(hostAddr string, attrs map[string]string) error
	// ContentsGoWithHost: deleting a host removes everything on it (netns
	// holders, VMs), so what is on it needs no deletion of its own and
	// the sweep of a lost state finds the lab's hosts themselves; false
	// for machines that stay (ssh), which are swept one by one.
	ContentsGoWithHost() bool
	EnsureNetwork(ctx context.Context, lab string, n Network) error
	ObserveNetwork(ctx context.Context, lab string, n Network) (bool, string, error)
	DestroyNetwork(ctx context.Context, lab string, n Network) error
	CreateHost(ctx context.Context, lab string, h Host, keys Keys) (Record, error)
	ObserveHost(ctx context.Context, lab string, h Host, rec Record) (Status, error)
	// RepairHost restarts what runs the host (sshd) when it exists but is not serving.
	RepairHost(ctx context.Context, lab string, h Host, rec Record, keys Keys) (Record, error)
	DestroyHost(ctx context.Context, lab string, h Host, rec Record) error
	Target(lab string, h Host, rec Record, keys Keys) (remote.Target, error)
	// Sweep removes every object of the lab this provider can find by its
	// marks, whether or not the state knows it (lost state, crashes).
	Sweep(ctx context.Context, lab string) error
}

// Default is the provider of a host that names none.
const Default = "netns"

// Set is the providers a run can use, by name.
type Set map[string]Provider

// NewSet collects providers by their names.
func NewSet(ps ...Provider) Set {
	s := Set{}
	for _, p := range ps {
		s[p.Name()] = p
	}
	return s
}

// For returns the provider of a host or network by its attributes,
// told the host's own settings first (addr "" for none).
func (s Set) For(addr string, attrs map[string]string) (Provider, error) {
	name := attrs["provider"]
	if name == "" {
		name = Default
	}
	p, ok := s[name]
	if !ok {
		return nil, fmt.Errorf("provider %q is not available", name)
	}
	if addr != "" {
		if err := p.UseHost(addr, attrs); err != nil {
			return nil, fmt.Errorf("%s: %w", addr, err)
		}
	}
	return p, nil
}

// ExistingNetwork is embedded by providers whose hosts sit on a LAN that
// exists without labnet (existing machines, Lima's own network): making,
// reading and removing it are no-ops.
type ExistingNetwork struct{}

func (ExistingNetwork) EnsureNetwork(context.Context, string, Network) error { return nil }
func (ExistingNetwork) ObserveNetwork(context.Context, string, Network) (bool, string, error) {
	return true, "", nil
}
func (ExistingNetwork) DestroyNetwork(context.Context, string, Network) error { return nil }

// NotTheLabs says that the network is there whether or not the lab made it,
// so finding it is no sign of an earlier apply (see AlwaysThere).
func (ExistingNetwork) NotTheLabs() {}

// AlwaysThere is implemented by providers whose networks exist without
// labnet (those embedding ExistingNetwork). A first plan creates such a
// network (a no-op) rather than replacing it as a leftover.
type AlwaysThere interface{ NotTheLabs() }

package config

import (
	"net/netip"
	"slices"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/labnet-dev/labnet/provider"
	"github.com/zclconf/go-cty/cty"
)

// DefaultNatCIDR is a host's nat_network when it sets none (libvirt's default).
var DefaultNatCIDR = netip.MustParsePrefix("192.168.122.0/24")

const kindHost = "host"

func init() {
	registerKind(kindDef{
		name: kindHost, seq: 2, decode: (*loader).decodeHost, maxName: MaxHostName, node: true,
		faults: []string{"stop", "start"},
		schema: blockSchema{
			attrs:    []string{"network", "address", "provider", "nat_network"},
			required: []string{"network"},
		},
		moreBlocks: providerBlocks,
	})
}

// providerBlocks are the settings blocks of the registered providers
// (ssh { ... }, lima { ... }), at most one of each in a host.
func providerBlocks() []nested {
	var out []nested
	for _, name := range provider.Names() {
		b := provider.BlockOf(name)
		if b == nil {
			continue
		}
		s := blockSchema{}
		for _, a := range b.Args {
			s.attrs = append(s.attrs, a.Name)
		}
		out = append(out, nested{hcl.BlockHeaderSchema{Type: name}, s})
	}
	return out
}

// Hosts are the lab's host blocks' instances, in declaration order.
func (l *Lab) Hosts() []*Host { return listOf[*Host](l, kindHost) }

func (l *loader) decodeHost(d *dec, n *node, ctx *hcl.EvalContext, res Resource, id cty.Value) (*instance, func()) {
	netInst := d.ref("network", kindNetwork)
	prov := provider.Default
	if s, ok := d.str("provider"); ok {
		if !slices.Contains(provider.Names(), s) {
			d.fail("provider", "Unsupported provider", "The provider %q is not supported; use %s.", s, orList(quoteAll(provider.Names())))
		}
		prov = s
	}
	natCIDR, natSet := DefaultNatCIDR, d.has("nat_network")
	if natSet {
		natCIDR, _ = d.prefix("nat_network")
	}
	var addr netip.Addr
	explicit := d.has("address")
	if explicit {
		addr, _ = d.ipv4("address")
	}
	// A host may carry every provider's block whatever its provider, so
	// that one lab runs on every provider by changing only the provider
	// (`lima { template = var.lima_template }` on a netns host). Each block
	// is decoded and checked always, and used only when the host's
	// provider is the block's; a host of a provider with a block and
	// without one gets the block's defaults.
	var settings map[string]string
	written := false
	for _, sb := range n.subs {
		if b := provider.BlockOf(sb.typ); b != nil {
			if v := l.decodeProviderBlock(d, sb, ctx, b); sb.typ == prov {
				settings, written = v, true
			}
		}
	}
	if b := provider.BlockOf(prov); b != nil && !written {
		settings = providerDefaults(b)
	}
	// An ssh host is a machine that exists. Without an address it is the
	// one allocated like a netns host's, so a lab switches to machines
	// that have those addresses by changing only its provider. A lima
	// host's address is allocated (or checked) likewise, but it means
	// nothing before the VM boots: Lima's network hands out the real
	// address, and labnet reads it from the running VM later. Allocating
	// keeps the pool and every later allocation identical to a netns lab.
	if !d.ok || netInst == nil {
		return nil, nil
	}
	nw := netInst.res.(*Network)
	if natSet && natCIDR.Overlaps(nw.CIDR) {
		d.fail("nat_network", "Overlapping CIDR", "The nat_network %s of %s overlaps its network %s (%s).", natCIDR, res.Addr, nw.Addr, nw.CIDR)
		return nil, nil
	}
	addr = l.poolAddress(d, &n.rng, addrPool{cidr: nw.CIDR, first: 11, gateway: NetworkGateway(nw.CIDR), name: nw.Addr,
		gwWhat: "labnet's underlay gateway", why: " (host addresses are allocated from the 11th address on)", taken: l.netTaken[nw.Addr]},
		res.Addr, addr, explicit)
	if !d.ok {
		return nil, nil
	}
	h := &Host{Resource: res, Network: nw.Addr, Address: addr, Provider: prov, NatCIDR: natCIDR, Settings: settings}
	v := cty.ObjectVal(map[string]cty.Value{
		"id":          id,
		"name":        cty.StringVal(res.Name),
		"network":     netInst.value,
		"address":     cty.StringVal(addr.String()),
		"provider":    cty.StringVal(prov),
		"nat_network": cty.StringVal(natCIDR.String()),
	})
	return &instance{value: v, res: h}, func() {
		l.take(l.netTaken, nw.Addr, addr, res.Addr)
		l.natDefault[res.Addr] = !natSet
		add(l.lab, kindHost, h)
	}
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strconv.Quote(v)
	}
	return out
}

// providerDefaults are the settings of a host of the provider that wrote
// no block for it.
func providerDefaults(b *provider.Block) map[string]string {
	v := map[string]string{}
	for _, a := range b.Args {
		if a.Default != "" {
			v[a.Name] = a.Default
		}
	}
	return v
}

// decodeProviderBlock decodes a provider's block of a host by the
// provider's own rules: each argument by its type and check (the error
// at the argument), then the block's rules for them together, over the
// defaults. Errors clear d.ok.
func (l *loader) decodeProviderBlock(d *dec, sb *subBlock, ctx *hcl.EvalContext, b *provider.Block) map[string]string {
	pd := l.newDec(sb.attrs, ctx)
	v, set := providerDefaults(b), map[string]bool{}
	for _, a := range b.Args {
		if !pd.has(a.Name) {
			continue
		}
		var s string
		switch a.Type {
		case provider.IntArg:
			n, ok := pd.intRange(a.Name, int64(a.Min), int64(a.Max))
			if !ok {
				continue
			}
			s = strconv.Itoa(n)
		default:
			var ok bool
			if s, ok = pd.str(a.Name); !ok {
				continue
			}
		}
		if a.Check != nil {
			if err := a.Check(s); err != nil {
				pd.fail(a.Name, "Invalid "+sb.typ+" setting", "%s", err)
				continue
			}
		}
		if a.Type == provider.PathArg {
			s = l.labPath(s)
		}
		v[a.Name], set[a.Name] = s, true
	}
	if b.Finish != nil && pd.ok {
		if arg, err := b.Finish(v, set); err != nil {
			if _, ok := sb.attrs[arg]; ok {
				pd.fail(arg, "Invalid "+sb.typ+" block", "%s", err)
			} else {
				l.errorf(&sb.block.DefRange, "Invalid "+sb.typ+" block", "%s", err)
				pd.ok = false
			}
		}
	}
	if !pd.ok {
		d.ok = false
	}
	for k, s := range v {
		if s == "" {
			delete(v, k)
		}
	}
	return v
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

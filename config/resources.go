package config

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/labnet-dev/labnet/provider"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// dec holds the evaluated arguments of one block and reports bad values at
// their expression's range.
type dec struct {
	l     *loader
	attrs hcl.Attributes
	vals  map[string]cty.Value
	ok    bool
	refs  map[string]bool // resource instances referenced by argument values
}

func (l *loader) newDec(attrs hcl.Attributes, ctx *hcl.EvalContext) *dec {
	d := &dec{l: l, attrs: attrs, vals: map[string]cty.Value{}, ok: true, refs: map[string]bool{}}
	var list []*hcl.Attribute
	for name, a := range attrs {
		if name == "count" || name == "for_each" {
			continue
		}
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Range.Start.Byte < list[j].Range.Start.Byte })
	for _, a := range list {
		v, ok := l.eval(a.Expr, ctx)
		if !ok {
			d.ok = false
			continue
		}
		d.vals[a.Name] = v
	}
	return d
}

// has reports whether name is set to a non-null value.
func (d *dec) has(name string) bool {
	v, ok := d.vals[name]
	return ok && !v.IsNull()
}

func (d *dec) rng(name string) *hcl.Range { return d.attrs[name].Expr.Range().Ptr() }

func (d *dec) fail(name, summary, format string, args ...any) {
	d.l.errorf(d.rng(name), summary, format, args...)
	d.ok = false
}

// required reports a required argument set to null.
func (d *dec) required(names ...string) {
	for _, name := range names {
		if v, ok := d.vals[name]; ok && v.IsNull() {
			d.fail(name, "Invalid value", "The argument %q is required and must not be null.", name)
		}
	}
}

func (d *dec) str(name string) (string, bool) {
	if !d.has(name) {
		return "", false
	}
	s, ok := d.l.toString(d.vals[name], name, d.attrs[name].Expr)
	if !ok {
		d.ok = false
	}
	return s, ok
}

func (d *dec) boolean(name string) (bool, bool) {
	if !d.has(name) {
		return false, false
	}
	v, err := convert.Convert(d.vals[name], cty.Bool)
	if err != nil {
		d.fail(name, "Incorrect attribute value type",
			"Inappropriate value for argument %q: a bool is required, got %s.", name, typeName(d.vals[name].Type()))
		return false, false
	}
	return v.True(), true
}

// port decodes a port number argument (1..65535).
func (d *dec) port(name string) (int, bool) {
	if !d.has(name) {
		return 0, false
	}
	v, err := convert.Convert(d.vals[name], cty.Number)
	if err != nil {
		d.fail(name, "Incorrect attribute value type",
			"Inappropriate value for argument %q: a number is required, got %s.", name, typeName(d.vals[name].Type()))
		return 0, false
	}
	bf := v.AsBigFloat()
	i, _ := bf.Int64()
	if !bf.IsInt() || i < 1 || i > 65535 {
		d.fail(name, "Invalid port", "%s must be a port number from 1 to 65535, got %s.", name, bf.Text('g', -1))
		return 0, false
	}
	return int(i), true
}

// ipv4 decodes an IPv4 address argument.
func (d *dec) ipv4(name string) (netip.Addr, bool) {
	s, ok := d.str(name)
	if !ok {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		d.fail(name, "Invalid address", "The %s %q is not an IPv4 address like 192.168.50.11.", name, s)
		return netip.Addr{}, false
	}
	return a, true
}

// prefix decodes an IPv4 CIDR argument that must be a network address.
func (d *dec) prefix(name string) (netip.Prefix, bool) {
	s, ok := d.str(name)
	if !ok {
		return netip.Prefix{}, false
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		d.fail(name, "Invalid CIDR", "%q is not a valid CIDR prefix like 192.168.50.0/24.", s)
		return netip.Prefix{}, false
	}
	if !p.Addr().Is4() {
		d.fail(name, "Invalid CIDR", "%s is not an IPv4 prefix; only IPv4 is supported.", s)
		return netip.Prefix{}, false
	}
	if p.Masked() != p {
		d.fail(name, "Invalid CIDR", "%s is not a network address; use %s.", s, p.Masked())
		return netip.Prefix{}, false
	}
	if p.Bits() < 8 || p.Bits() > 30 {
		d.fail(name, "Invalid CIDR", "The prefix length of %s must be between /8 and /30.", s)
		return netip.Prefix{}, false
	}
	return p, true
}

// routePrefix is an IPv4 destination as routing tables hold it: any
// length, "default" for 0.0.0.0/0.
func (d *dec) routePrefix(name string) netip.Prefix {
	s, ok := d.str(name)
	if !ok {
		return netip.Prefix{}
	}
	if s == "default" {
		return netip.MustParsePrefix("0.0.0.0/0")
	}
	p, err := netip.ParsePrefix(s)
	switch {
	case err != nil || !p.Addr().Is4():
		d.fail(name, "Invalid route", "%q is not an IPv4 destination like 10.0.4.0/24, 10.0.0.1/32 or default.", s)
	case p.Masked() != p:
		d.fail(name, "Invalid route", "%s is not a network address; use %s.", s, p.Masked())
	}
	return p
}

// ipv4List is a list of IPv4 addresses.
func (d *dec) ipv4List(name string) []netip.Addr {
	v := d.vals[name]
	if !v.CanIterateElements() {
		d.fail(name, "Incorrect attribute value type", "%s must be a list of IPv4 addresses.", name)
		return nil
	}
	var out []netip.Addr
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || !e.Type().Equals(cty.String) {
			d.fail(name, "Incorrect attribute value type", "%s must be a list of IPv4 addresses.", name)
			return nil
		}
		a, err := netip.ParseAddr(e.AsString())
		if err != nil || !a.Is4() {
			d.fail(name, "Invalid address", "%q in %s is not an IPv4 address.", e.AsString(), name)
			return nil
		}
		out = append(out, a)
	}
	return out
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// ref decodes an argument that must be a resource instance of one of kinds.
func (d *dec) ref(name string, kinds ...string) *instance {
	if !d.has(name) {
		return nil
	}
	var wants []string
	for _, k := range kinds {
		wants = append(wants, article(k))
	}
	want := orList(wants)
	v := d.vals[name]
	ty := v.Type()
	if id, ok := instanceID(v); ok {
		inst := d.l.instances[id]
		if inst == nil {
			d.fail(name, "Invalid reference", "%s must be %s, got an object with id %q, which is not a resource instance.", name, want, id)
			return nil
		}
		for _, k := range kinds {
			if inst.kind == k {
				d.refs[id] = true
				return inst
			}
		}
		d.fail(name, "Invalid reference", "%s must be %s, got %s.", name, want, id)
		return nil
	}
	if (ty.IsTupleType() || ty.IsObjectType() || ty.IsListType() || ty.IsMapType()) && v.LengthInt() > 0 {
		it := v.ElementIterator()
		it.Next()
		_, first := it.Element()
		if id, ok := instanceID(first); ok {
			d.fail(name, "Invalid reference",
				"%s must be a single instance (%s), got a collection of %d instances; use one of them, such as %s.",
				name, want, v.LengthInt(), id)
			return nil
		}
	}
	d.fail(name, "Invalid reference", "%s must be %s, got %s.", name, want, typeName(ty))
	return nil
}

// instanceID returns the id of a resource instance value.
func instanceID(v cty.Value) (string, bool) {
	ty := v.Type()
	if v.IsNull() || !ty.IsObjectType() || !ty.HasAttribute("id") || ty.AttributeType("id") != cty.String {
		return "", false
	}
	id := v.GetAttr("id")
	if id.IsNull() || !id.IsKnown() {
		return "", false
	}
	return id.AsString(), true
}

// --- IPv4 helpers ---

func a2u(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func u2a(u uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], u)
	return netip.AddrFrom4(b)
}

func broadcast(p netip.Prefix) netip.Addr {
	return u2a(a2u(p.Addr()) | (^uint32(0) >> uint(p.Bits())))
}

// NetworkGateway returns the address a network reserves for labnet's
// underlay gateway: its last usable address.
func NetworkGateway(p netip.Prefix) netip.Addr { return u2a(a2u(broadcast(p)) - 1) }

// BridgeGateway returns a bridge's own address: the first host address.
func BridgeGateway(p netip.Prefix) netip.Addr { return u2a(a2u(p.Addr()) + 1) }

// segmentPool: one L2 network across its hosts, so addresses are unique
// per segment, from the first address on (a segment has no gateway).
func (l *loader) segmentPool(seg *Segment) addrPool {
	return addrPool{cidr: seg.CIDR, first: 1, name: seg.Addr, where: " on " + seg.Addr, taken: l.segTaken[seg.Addr]}
}

// addrPool is where a resource's address comes from.
type addrPool struct {
	cidr    netip.Prefix
	first   uint32     // allocation starts at this offset into cidr
	gateway netip.Addr // never handed out (invalid: none)
	name    string     // the pool in messages ("network.lan", "the nat_network of host.h")
	gwWhat  string     // what the gateway is, in messages
	where   string     // after "already used by X" ("", " on segment.s")
	why     string     // after "no free address for R": why it is full so soon
	taken   map[netip.Addr]string
}

// poolAddress checks an explicit address against p, or allocates p's first
// free one; problems fail d (a full pool is reported at rng).
func (l *loader) poolAddress(d *dec, rng *hcl.Range, p addrPool, who string, addr netip.Addr, explicit bool) netip.Addr {
	if explicit {
		d.checkAddress("address", addr, p.cidr, p.gateway, p.name, p.gwWhat)
		if other := p.taken[addr]; d.ok && other != "" {
			d.fail("address", "Duplicate address", "The address %s of %s is already used by %s%s.", addr, who, other, p.where)
		}
		return addr
	}
	a, ok := allocate(p.cidr, p.first, p.gateway, p.taken)
	if !ok {
		l.errorf(rng, "No free address", "%s (%s) has no free address for %s%s; set address explicitly.", p.name, p.cidr, who, p.why)
		d.ok = false
	}
	return a
}

// allocate returns the lowest address of p from offset first on that is not
// the gateway, the broadcast address or taken.
func allocate(p netip.Prefix, first uint32, gateway netip.Addr, taken map[netip.Addr]string) (netip.Addr, bool) {
	base, last := a2u(p.Addr()), a2u(broadcast(p))
	for u := base + first; u < last && u >= base; u++ {
		a := u2a(u)
		if a == gateway || taken[a] != "" {
			continue
		}
		return a, true
	}
	return netip.Addr{}, false
}

// checkAddress reports an explicit address that is outside p or reserved.
func (d *dec) checkAddress(name string, a netip.Addr, p netip.Prefix, gateway netip.Addr, owner, gwWhat string) {
	switch {
	case !p.Contains(a):
		d.fail(name, "Address outside network", "The address %s is not inside %s (%s).", a, owner, p)
	case a == p.Addr():
		d.fail(name, "Reserved address", "The address %s is the network address of %s (%s).", a, owner, p)
	case a == broadcast(p):
		d.fail(name, "Reserved address", "The address %s is the broadcast address of %s (%s).", a, owner, p)
	case a == gateway:
		d.fail(name, "Reserved address", "The address %s is reserved as %s of %s.", a, gwWhat, owner)
	}
}

func nodeAddress(inst *instance) netip.Addr {
	_, a := nodeOf(inst)
	return a
}

// nodeOf is the host a node (host, container, vm or pod) is on, and its
// address (invalid for a container wired by links alone).
func nodeOf(inst *instance) (host string, addr netip.Addr) {
	switch r := inst.res.(type) {
	case *Host:
		return r.Addr, r.Address
	case *Container:
		return r.Host, r.Address
	case *VM:
		return r.Host, r.Address
	case *Pod:
		return r.Host, r.Address
	}
	return "", netip.Addr{}
}

func nullOr[T any](set bool, v T, f func(T) cty.Value, ty cty.Type) cty.Value {
	if !set {
		return cty.NullVal(ty)
	}
	return f(v)
}

// --- instances ---

// decodeInstance evaluates and validates one resource instance. It returns
// nil after reporting errors.
func (l *loader) decodeInstance(n *node, ctx *hcl.EvalContext, addr, name string) (*instance, map[string]bool) {
	res := Resource{Addr: addr, Name: name, Range: n.rng}
	nameRange := n.block.LabelRanges[0]
	if a, ok := n.attrs["for_each"]; ok {
		nameRange = a.Expr.Range()
	}
	def := kindDefs[n.rkind]
	maxLen := def.maxName
	nameOK := true
	if len(name) > maxLen {
		l.errorf(&nameRange, "Name too long",
			"The name %q of %s is %d characters long; %s names may be at most %d characters.", name, addr, len(name), n.rkind, maxLen)
		nameOK = false
	} else if other := l.names[n.rkind][name]; other != "" {
		l.errorf(&n.rng, "Duplicate name",
			"The name %q of %s is already used by %s; %s names must be unique.", name, addr, other, n.rkind)
		nameOK = false
	}

	d := l.newDec(n.attrs, ctx)
	d.required(def.schema.required...) // required arguments are the kind's own
	id := cty.StringVal(addr)
	inst, commit := def.decode(l, d, n, ctx, res, id)
	if !d.ok || !nameOK || inst == nil {
		return nil, nil
	}
	inst.addr, inst.kind = addr, n.rkind
	if l.names[n.rkind] == nil {
		l.names[n.rkind] = map[string]string{}
	}
	l.names[n.rkind][name] = addr
	if commit != nil {
		commit()
	}
	return inst, d.refs
}

const kindNetwork = "network"

func init() {
	registerKind(kindDef{
		name: kindNetwork, seq: 1, decode: (*loader).decodeNetwork,
		schema: blockSchema{attrs: []string{"cidr"}, required: []string{"cidr"}},
	})
}

// Networks are the lab's network blocks' instances, in declaration order.
func (l *Lab) Networks() []*Network { return listOf[*Network](l, kindNetwork) }

func (l *loader) decodeNetwork(d *dec, _ *node, _ *hcl.EvalContext, res Resource, id cty.Value) (*instance, func()) {
	p, ok := d.prefix("cidr")
	if !ok {
		return nil, nil
	}
	for _, o := range l.lab.Networks() {
		if o.CIDR.Overlaps(p) {
			d.fail("cidr", "Overlapping networks", "The cidr %s of %s overlaps %s (%s).", p, res.Addr, o.Addr, o.CIDR)
			return nil, nil
		}
	}
	nw := &Network{Resource: res, CIDR: p}
	v := cty.ObjectVal(map[string]cty.Value{
		"id":      id,
		"name":    cty.StringVal(res.Name),
		"cidr":    cty.StringVal(p.String()),
		"gateway": cty.StringVal(NetworkGateway(p).String()),
	})
	return &instance{value: v, res: nw}, func() { add(l.lab, kindNetwork, nw) }
}

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

// take records that owner holds address a in the pool key of m.
func (l *loader) take(m map[string]map[netip.Addr]string, key string, a netip.Addr, owner string) {
	if m[key] == nil {
		m[key] = map[netip.Addr]string{}
	}
	m[key][a] = owner
}

// labPath makes a relative path relative to the lab directory; absolute
// paths and ~ paths (expanded where they are used) stay as written.
func (l *loader) labPath(p string) string {
	if filepath.IsAbs(p) || p == "~" || strings.HasPrefix(p, "~/") {
		return p
	}
	return filepath.Join(l.absDir, p)
}

const kindBridge = "bridge"

func init() {
	registerKind(kindDef{
		name: kindBridge, seq: 3, decode: (*loader).decodeBridge,
		schema: blockSchema{attrs: []string{"host", "cidr", "masquerade", "name"}, required: []string{"host", "cidr"}},
	})
}

// Bridges are the lab's bridge blocks' instances, in declaration order.
func (l *Lab) Bridges() []*Bridge { return listOf[*Bridge](l, kindBridge) }

func (l *loader) decodeBridge(d *dec, n *node, _ *hcl.EvalContext, res Resource, id cty.Value) (*instance, func()) {
	hostInst := d.ref("host", kindHost)
	p, _ := d.prefix("cidr")
	masq, _ := d.boolean("masquerade")
	ifname, ifRange := n.label, n.block.LabelRanges[0]
	if s, ok := d.str("name"); ok {
		ifname, ifRange = s, *d.rng("name")
	}
	if d.ok && (!ifnameRe.MatchString(ifname) || len(ifname) > maxIfname || ifname == "lo") {
		hint := ""
		if !d.has("name") {
			hint = " Set name = \"...\" to choose another interface name."
		}
		l.errorf(&ifRange, "Invalid interface name",
			"The bridge interface name %q must match %s, be at most %d characters and not be \"lo\".%s", ifname, ifnameRe, maxIfname, hint)
		d.ok = false
	}
	if !d.ok || hostInst == nil {
		return nil, nil
	}
	h := hostInst.res.(*Host)
	nw := l.instances[h.Network].res.(*Network)
	if p.Overlaps(nw.CIDR) {
		d.fail("cidr", "Overlapping CIDR", "The bridge cidr %s overlaps %s (%s), the network of %s.", p, nw.Addr, nw.CIDR, h.Addr)
		return nil, nil
	}
	for _, o := range l.hostBridges[h.Addr] {
		if o.CIDR.Overlaps(p) {
			d.fail("cidr", "Overlapping CIDR", "The bridge cidr %s overlaps %s (%s) on the same host %s.", p, o.Addr, o.CIDR, h.Addr)
			return nil, nil
		}
	}
	if other := l.ifnames[h.Addr][ifname]; other != "" {
		l.errorf(&ifRange, "Duplicate interface name", "The bridge interface name %q is already used on %s by %s.", ifname, h.Addr, other)
		return nil, nil
	}
	br := &Bridge{Resource: res, Host: h.Addr, Ifname: ifname, CIDR: p, Gateway: BridgeGateway(p), Masquerade: masq}
	v := cty.ObjectVal(map[string]cty.Value{
		"id":         id,
		"name":       cty.StringVal(ifname),
		"host":       hostInst.value,
		"cidr":       cty.StringVal(p.String()),
		"gateway":    cty.StringVal(br.Gateway.String()),
		"masquerade": cty.BoolVal(masq),
	})
	return &instance{value: v, res: br}, func() {
		l.hostBridges[h.Addr] = append(l.hostBridges[h.Addr], br)
		if l.ifnames[h.Addr] == nil {
			l.ifnames[h.Addr] = map[string]string{}
		}
		l.ifnames[h.Addr][ifname] = res.Addr
		add(l.lab, kindBridge, br)
	}
}

var portType = cty.Object(map[string]cty.Type{"host_port": cty.Number, "port": cty.Number, "protocol": cty.String})

// decodePorts decodes the port blocks of n (a container or nat VM of
// owner) published on host ("" when the host did not decode). It returns
// the ports, their values and the "8080/tcp" keys to record with
// publishPorts on commit; errors clear d.ok.
func (l *loader) decodePorts(d *dec, n *node, ctx *hcl.EvalContext, host, owner string) ([]Port, []cty.Value, map[string]bool) {
	var ports []Port
	var portVals []cty.Value
	published := map[string]bool{}
	hostPorts := l.hostPorts[host]
	for _, pb := range n.blocksOf("port") {
		pd := l.newDec(pb.attrs, ctx)
		pd.required(portBlock.schema.required...)
		hp, _ := pd.port("host_port")
		cp, _ := pd.port("port")
		proto := "tcp"
		if s, ok := pd.str("protocol"); ok {
			if s != "tcp" && s != "udp" {
				pd.fail("protocol", "Invalid protocol", "The protocol must be \"tcp\" or \"udp\", got %q.", s)
			}
			proto = s
		}
		if pd.ok && host != "" {
			key := fmt.Sprintf("%d/%s", hp, proto)
			if other := hostPorts[key]; other != "" {
				pd.fail("host_port", "Duplicate published port", "The host port %s on %s is already published by %s.", key, host, other)
			} else if published[key] {
				pd.fail("host_port", "Duplicate published port", "The host port %s on %s is already published by %s.", key, host, owner)
			}
			published[key] = true
		}
		if !pd.ok {
			d.ok = false
			continue
		}
		ports = append(ports, Port{HostPort: hp, Port: cp, Protocol: proto, Range: pb.block.DefRange})
		portVals = append(portVals, cty.ObjectVal(map[string]cty.Value{
			"host_port": cty.NumberIntVal(int64(hp)),
			"port":      cty.NumberIntVal(int64(cp)),
			"protocol":  cty.StringVal(proto),
		}))
	}
	return ports, portVals, published
}

// publishPorts records host ports published by owner.
func (l *loader) publishPorts(host string, published map[string]bool, owner string) {
	if l.hostPorts[host] == nil {
		l.hostPorts[host] = map[string]string{}
	}
	for key := range published {
		l.hostPorts[host][key] = owner
	}
}

func portList(vals []cty.Value) cty.Value {
	if len(vals) == 0 {
		return cty.ListValEmpty(portType)
	}
	return cty.ListVal(vals)
}

// noPorts reports every port block of n, which cannot publish ports.
func (l *loader) noPorts(d *dec, n *node, summary, format string, args ...any) {
	for _, pb := range n.blocksOf("port") {
		l.errorf(&pb.block.DefRange, summary, format, args...)
		d.ok = false
	}
}

// A container needs exactly one of bridge and segment, or neither when
// links alone wire it; decodeContainer checks that.
const kindContainer = "container"

func init() {
	registerKind(kindDef{
		name: kindContainer, seq: 4, decode: (*loader).decodeContainer, node: true,
		faults: []string{"stop", "start"},
		schema: blockSchema{attrs: []string{"host", "bridge", "segment", "address", "rate", "delay", "loss", "private_dirs",
			"image", "entrypoint", "command", "env", "workdir", "privileged", "cap_add", "memory", "cpus"}, required: []string{"host"},
			blocks: []nested{portBlock, nicBlock, fileBlock}},
	})
}

// Containers are the lab's container blocks' instances, in declaration order.
func (l *Lab) Containers() []*Container { return listOf[*Container](l, kindContainer) }

func (l *loader) decodeContainer(d *dec, n *node, ctx *hcl.EvalContext, res Resource, id cty.Value) (*instance, func()) {
	hostInst := d.ref("host", kindHost)
	var brInst, segInst *instance
	_, hasBr := d.attrs["bridge"]
	_, hasSeg := d.attrs["segment"]
	switch {
	case hasBr && hasSeg:
		later := "segment"
		if d.attrs["bridge"].Range.Start.Byte > d.attrs["segment"].Range.Start.Byte {
			later = "bridge"
		}
		l.errorf(&d.attrs[later].Range, "Conflicting bridge and segment",
			"A container is on exactly one of a bridge or a segment; %s sets both bridge and segment.", res.Addr)
		d.ok = false
	case !hasBr && !hasSeg:
		// Wired by links alone (a router, or a host behind one): no eth0.
		if d.has("address") {
			d.fail("address", "Address without a bridge",
				"%s is on no bridge or segment, so it has no eth0 for this address; give its links addresses instead.", res.Addr)
		}
	case hasBr:
		d.required("bridge")
		brInst = d.ref("bridge", kindBridge)
	default:
		d.required("segment")
		segInst = d.ref("segment", kindSegment)
	}
	var addr netip.Addr
	explicit := d.has("address")
	if explicit {
		addr, _ = d.ipv4("address")
	}
	shaping, shapeVals := d.shaping()
	before := len(d.l.diags.Errs())
	img := l.decodeImage(d, res.Addr)
	dirs := d.privateDirs("private_dirs")
	files, fileVals := l.decodeFiles(d, n, ctx, dirs, len(d.l.diags.Errs()) == before, res.Addr)
	var ports []Port
	var portVals []cty.Value
	published := map[string]bool{}
	switch {
	case hasSeg && !hasBr:
		l.noPorts(d, n, "Port on a segment",
			"%s is on a segment: a tenant segment has no NAT, so it cannot publish ports; reach it at its own address.", res.Addr)
	case !hasSeg && !hasBr:
		l.noPorts(d, n, "Port without a bridge",
			"%s is on no bridge: ports are published through a bridge's NAT.", res.Addr)
	default:
		host := ""
		if hostInst != nil {
			host = hostInst.addr
		}
		ports, portVals, published = l.decodePorts(d, n, ctx, host, res.Addr)
	}
	if !d.ok || hostInst == nil || (brInst == nil && segInst == nil && (hasBr || hasSeg)) {
		return nil, nil
	}
	c := &Container{Resource: res, Host: hostInst.addr, Ports: ports, Shaping: shaping}
	var pools map[string]map[netip.Addr]string
	var pool string
	brVal, segVal := cty.NullVal(cty.DynamicPseudoType), cty.NullVal(cty.DynamicPseudoType)
	if brInst != nil {
		br := brInst.res.(*Bridge)
		if br.Host != hostInst.addr {
			d.fail("bridge", "Bridge on another host", "The bridge %s is on %s, but %s is on %s.", br.Addr, br.Host, res.Addr, hostInst.addr)
			return nil, nil
		}
		pools, pool, c.Bridge, brVal = l.bridgeTaken, br.Addr, br.Addr, brInst.value
		addr = l.poolAddress(d, &n.rng, addrPool{cidr: br.CIDR, first: 2, gateway: br.Gateway, name: br.Addr,
			gwWhat: "the bridge's own address", taken: l.bridgeTaken[br.Addr]}, res.Addr, addr, explicit)
	} else if segInst != nil {
		seg := segInst.res.(*Segment)
		if !slices.Contains(seg.Hosts, hostInst.addr) {
			d.fail("segment", "Host not on segment", "%s is on %s, which %s does not reach (its hosts are %s).",
				res.Addr, hostInst.addr, seg.Addr, strings.Join(seg.Hosts, ", "))
			return nil, nil
		}
		pools, pool, c.Segment, segVal = l.segTaken, seg.Addr, seg.Addr, segInst.value
		addr = l.poolAddress(d, &n.rng, l.segmentPool(seg), res.Addr, addr, explicit)
	}
	nics, nicVals, commitNICs := l.decodeNICs(d, n, ctx, hostInst.addr, res.Addr)
	if !d.ok {
		return nil, nil
	}
	c.Address, c.NICs, c.PrivateDirs, c.Files, c.Image = addr, nics, dirs, files, img
	addrVal := cty.NullVal(cty.String)
	if addr.IsValid() {
		addrVal = cty.StringVal(addr.String())
	}
	v := cty.ObjectVal(withShaping(map[string]cty.Value{
		"id":           id,
		"name":         cty.StringVal(res.Name),
		"host":         hostInst.value,
		"bridge":       brVal,
		"segment":      segVal,
		"address":      addrVal,
		"port":         portList(portVals),
		"nic":          nicVals,
		"private_dirs": stringList(dirs),
		"file":         fileVals,
	}, shapeVals))
	return &instance{value: v, res: c}, func() {
		commitNICs()
		if pools != nil {
			l.take(pools, pool, addr, res.Addr)
		}
		l.publishPorts(c.Host, published, res.Addr)
		add(l.lab, kindContainer, c)
	}
}

// command decodes a non-empty list of strings whose first element, the
// program, is not empty.
func (d *dec) command(name string) []string {
	if !d.has(name) {
		return nil
	}
	var command []string
	v, err := convert.Convert(d.vals[name], cty.List(cty.String))
	if err != nil {
		d.fail(name, "Incorrect attribute value type", "The %s must be a list of strings: %s.", name, err)
		return nil
	}
	if v.LengthInt() == 0 {
		d.fail(name, "Empty command", "The %s must have at least one element, the program to run.", name)
		return nil
	}
	for i, e := range v.AsValueSlice() {
		rng := d.rng(name)
		if tc, ok := d.attrs[name].Expr.(*hclsyntax.TupleConsExpr); ok && i < len(tc.Exprs) {
			rng = tc.Exprs[i].Range().Ptr()
		}
		switch {
		case e.IsNull():
			d.l.errorf(rng, "Invalid command", "%s[%d] must not be null.", name, i)
			d.ok = false
		case strings.ContainsRune(e.AsString(), 0):
			d.l.errorf(rng, "Invalid command", "%s[%d] must not contain a NUL byte.", name, i)
			d.ok = false
		case i == 0 && e.AsString() == "":
			d.l.errorf(rng, "Invalid command", "%s[0], the program to run, must not be empty.", name)
			d.ok = false
		default:
			command = append(command, e.AsString())
		}
	}
	return command
}

const kindProcess = "process"

func init() {
	registerKind(kindDef{
		name: kindProcess, seq: 11, decode: (*loader).decodeProcess,
		schema: blockSchema{attrs: []string{"on", "command"}, required: []string{"on", "command"}},
	})
}

// Processes are the lab's process blocks' instances, in declaration order.
func (l *Lab) Processes() []*Process { return listOf[*Process](l, kindProcess) }

func (l *loader) decodeProcess(d *dec, _ *node, _ *hcl.EvalContext, res Resource, id cty.Value) (*instance, func()) {
	on := d.ref("on", nodeKinds()...)
	command := d.command("command")
	if !d.ok || on == nil {
		return nil, nil
	}
	if c, ok := on.res.(*Container); ok && c.Image != nil {
		d.fail("on", "Process on an image container",
			"%s runs from an image: its process is the image's (entrypoint, command); process blocks on it are not supported yet.", on.addr)
		return nil, nil
	}
	p := &Process{Resource: res, On: on.addr, Command: command}
	cmd := make([]cty.Value, len(command))
	for i, s := range command {
		cmd[i] = cty.StringVal(s)
	}
	v := cty.ObjectVal(map[string]cty.Value{
		"id":      id,
		"name":    cty.StringVal(res.Name),
		"on":      on.value,
		"command": cty.ListVal(cmd),
	})
	return &instance{value: v, res: p}, func() { add(l.lab, kindProcess, p) }
}

const kindCheck = "check"

func init() {
	registerKind(kindDef{
		name: kindCheck, seq: 12, decode: (*loader).decodeCheck,
		schema: blockSchema{
			attrs:    []string{"from", "to", "ping", "tcp", "udp", "exec", "address", "expect", "source", "timeout", "within", "expect_output", "route", "nexthops", "via"},
			required: []string{"from"},
		},
	})
}

// Checks are the lab's check blocks' instances, in declaration order.
func (l *Lab) Checks() []*Check { return listOf[*Check](l, kindCheck) }

func (l *loader) decodeCheck(d *dec, n *node, _ *hcl.EvalContext, res Resource, id cty.Value) (*instance, func()) {
	from := d.ref("from", nodeKinds()...)
	to := d.ref("to", nodeKinds()...)

	// Exactly one probe.
	var probes []string
	for _, p := range []string{"ping", "tcp", "udp", "exec", "route"} {
		if d.has(p) {
			probes = append(probes, p)
		}
	}
	sort.Slice(probes, func(i, j int) bool {
		return d.attrs[probes[i]].Range.Start.Byte < d.attrs[probes[j]].Range.Start.Byte
	})
	c := &Check{Resource: res, Expect: "reach", Timeout: 3 * time.Second}
	switch len(probes) {
	case 0:
		if d.ok {
			l.errorf(&n.rng, "Missing probe", "A check needs exactly one of ping, tcp, udp, exec or route.")
			d.ok = false
		}
	case 1:
		c.Kind = probes[0]
	default:
		l.errorf(&d.attrs[probes[1]].Range, "Conflicting probes",
			"A check needs exactly one of ping, tcp, udp, exec or route; this one sets both %s and %s.", probes[0], probes[1])
		d.ok = false
	}
	switch c.Kind {
	case "ping":
		if b, ok := d.boolean("ping"); ok && !b {
			d.fail("ping", "Invalid ping", "ping must be true; remove it to use another probe.")
		}
	case "tcp", "udp":
		c.Port, _ = d.port(c.Kind)
		if !d.has("to") && d.ok {
			l.errorf(&d.attrs[c.Kind].Range, "Missing to",
				"A %s check needs to = <host, container, vm or pod>, where a listener runs on port %d.", c.Kind, c.Port)
			d.ok = false
		}
	case "exec":
		c.Exec, _ = d.str("exec")
	case "route":
		c.Route = d.routePrefix("route")
	}
	hopsSet, viaSet := d.has("nexthops"), d.has("via")
	if (hopsSet || viaSet) && c.Kind != "route" && c.Kind != "" {
		name := "nexthops"
		if !hopsSet {
			name = "via"
		}
		d.fail(name, "Invalid "+name, "%s is for route checks, not %s checks.", name, c.Kind)
	}
	if hopsSet {
		c.Nexthops, _ = d.intRange("nexthops", 1, 64)
	}
	if viaSet {
		c.Via = d.ipv4List("via")
	}
	viaVal := cty.NullVal(cty.List(cty.String))
	if viaSet {
		viaVal = d.vals["via"]
	}
	outRe, outSet := d.str("expect_output")
	if outSet {
		re, err := regexp.Compile(outRe)
		switch {
		case c.Kind != "exec" && c.Kind != "":
			d.fail("expect_output", "Invalid expect_output", "expect_output is for exec checks, not %s checks.", c.Kind)
		case err != nil:
			d.fail("expect_output", "Invalid expect_output", "expect_output is not a regular expression: %v.", err)
		}
		c.ExpectOutput = re
	}
	if s, ok := d.str("expect"); ok {
		if s != "reach" && s != "blocked" {
			d.fail("expect", "Invalid expect", "expect must be \"reach\" or \"blocked\", got %q.", s)
		}
		c.Expect = s
	}
	timeout := "3s"
	if s, ok := d.str("timeout"); ok {
		timeout = s
		t, err := time.ParseDuration(s)
		max, _ := time.ParseDuration(maxTimeout)
		switch {
		case err != nil:
			d.fail("timeout", "Invalid timeout", "The timeout %q is not a duration like \"3s\" or \"500ms\".", s)
		case t <= 0:
			d.fail("timeout", "Invalid timeout", "The timeout must be positive, got %s.", s)
		case t > max:
			d.fail("timeout", "Invalid timeout", "The timeout must be at most %s, got %s.", maxTimeout, s)
		}
		c.Timeout = t
	}
	within, withinSet := d.str("within")
	if withinSet {
		w, err := time.ParseDuration(within)
		max, _ := time.ParseDuration(maxWithin)
		switch {
		case err != nil:
			d.fail("within", "Invalid within", "within %q is not a duration like \"30s\" or \"2m\".", within)
		case w < c.Timeout:
			d.fail("within", "Invalid within", "within (%s) is shorter than the check's timeout (%s): not even one try would fit.", within, c.Timeout)
		case w > max:
			d.fail("within", "Invalid within", "within must be at most %s, got %s.", maxWithin, within)
		}
		c.Within = w
	}
	sourceSet := d.has("source")
	if sourceSet {
		c.Source, _ = d.ipv4("source")
	}
	addrText, addrSet := d.str("address")
	if addrSet {
		if ap, err := netip.ParseAddrPort(addrText); err == nil {
			if !ap.Addr().Is4() || ap.Port() == 0 {
				d.fail("address", "Invalid address", "The address %q must be an IPv4 address or IPv4:port with a port from 1 to 65535.", addrText)
			}
			c.Dial = ap
		} else if a, err := netip.ParseAddr(addrText); err == nil && a.Is4() {
			c.Dial = netip.AddrPortFrom(a, uint16(c.Port))
		} else {
			d.fail("address", "Invalid address", "The address %q must be an IPv4 address like 10.0.0.1 or IPv4:port like 10.0.0.1:8080.", addrText)
		}
	}
	if c.Kind == "ping" && !addrSet && !d.has("to") && d.ok {
		l.errorf(&n.rng, "Missing target", "A ping check needs to = <host, container, vm or pod> or address = \"IP\".")
		d.ok = false
	}
	if !d.ok || from == nil {
		return nil, nil
	}
	c.From = from.addr
	toVal := cty.NullVal(cty.DynamicPseudoType)
	if to != nil {
		c.To = to.addr
		toVal = to.value
		if !addrSet && c.Kind != "exec" {
			if !nodeAddress(to).IsValid() {
				d.fail("to", "No address to dial", "%s has no eth0 address (it is wired by links alone); give the check address = \"IP\", one of its links' addresses.", to.addr)
				return nil, nil
			}
			c.Dial = netip.AddrPortFrom(nodeAddress(to), uint16(c.Port))
		}
	}
	str := func(s string) cty.Value { return cty.StringVal(s) }
	num := func(i int) cty.Value { return cty.NumberIntVal(int64(i)) }
	v := cty.ObjectVal(map[string]cty.Value{
		"id":            id,
		"name":          cty.StringVal(res.Name),
		"from":          from.value,
		"to":            toVal,
		"ping":          nullOr(c.Kind == "ping", true, cty.BoolVal, cty.Bool),
		"tcp":           nullOr(c.Kind == "tcp", c.Port, num, cty.Number),
		"udp":           nullOr(c.Kind == "udp", c.Port, num, cty.Number),
		"exec":          nullOr(c.Kind == "exec", c.Exec, str, cty.String),
		"address":       nullOr(addrSet, addrText, str, cty.String),
		"expect":        cty.StringVal(c.Expect),
		"source":        nullOr(sourceSet, c.Source.String(), str, cty.String),
		"timeout":       cty.StringVal(timeout),
		"within":        nullOr(withinSet, within, str, cty.String),
		"expect_output": nullOr(outSet, outRe, str, cty.String),
		"route":         nullOr(c.Kind == "route", c.Route.String(), str, cty.String),
		"nexthops":      nullOr(hopsSet, c.Nexthops, num, cty.Number),
		"via":           viaVal,
	})
	return &instance{value: v, res: c}, func() { add(l.lab, kindCheck, c) }
}

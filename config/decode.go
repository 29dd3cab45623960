package config

import (
	"encoding/binary"
	"math/big"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
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
	bf, ok := d.number(name)
	if !ok {
		return 0, false
	}
	i, _ := bf.Int64()
	if !bf.IsInt() || i < 1 || i > 65535 {
		d.fail(name, "Invalid port", "%s must be a port number from 1 to 65535, got %s.", name, bf.Text('g', -1))
		return 0, false
	}
	return int(i), true
}

// number decodes a number argument.
func (d *dec) number(name string) (*big.Float, bool) {
	if !d.has(name) {
		return nil, false
	}
	v, err := convert.Convert(d.vals[name], cty.Number)
	if err != nil {
		d.fail(name, "Incorrect attribute value type",
			"Inappropriate value for argument %q: a number is required, got %s.", name, typeName(d.vals[name].Type()))
		return nil, false
	}
	return v.AsBigFloat(), true
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

// intRange decodes a whole number argument from lo to hi.
func (d *dec) intRange(name string, lo, hi int64) (int, bool) {
	bf, ok := d.number(name)
	if !ok {
		return 0, false
	}
	i, _ := bf.Int64()
	if !bf.IsInt() || i < lo || i > hi {
		d.fail(name, "Invalid value", "%s must be a whole number from %d to %d, got %s.", name, lo, hi, bf.Text('f', -1))
		return 0, false
	}
	return int(i), true
}

// refItem is one element of a list of references.
type refItem struct {
	inst *instance
	rng  *hcl.Range // the element's expression when written as [a, b], else the argument's
}

// refList decodes an argument that must be a non-empty list of distinct
// resource instances of kind.
func (d *dec) refList(name, kind string) ([]refItem, bool) {
	if !d.has(name) {
		return nil, false
	}
	v := d.vals[name]
	ty := v.Type()
	if !(ty.IsTupleType() || ty.IsListType() || ty.IsSetType()) {
		hint := ""
		if ty.IsObjectType() || ty.IsMapType() {
			hint = " Use values(...) for the instances of a for_each resource."
		}
		if _, ok := instanceID(v); ok {
			hint = " Write a single instance as [x]."
		}
		d.fail(name, "Invalid reference", "%s must be a list of %ss, got %s.%s", name, kind, typeName(ty), hint)
		return nil, false
	}
	if v.LengthInt() == 0 {
		d.fail(name, "Empty list", "%s must list at least one %s.", name, kind)
		return nil, false
	}
	var elems []hcl.Expression
	if tc, ok := d.attrs[name].Expr.(*hclsyntax.TupleConsExpr); ok && len(tc.Exprs) == v.LengthInt() {
		for _, e := range tc.Exprs {
			elems = append(elems, e)
		}
	}
	var out []refItem
	seen := map[string]bool{}
	i := 0
	for it := v.ElementIterator(); it.Next(); i++ {
		_, e := it.Element()
		rng := d.rng(name)
		if elems != nil {
			rng = elems[i].Range().Ptr()
		}
		id, ok := instanceID(e)
		inst := d.l.instances[id]
		switch {
		case !ok:
			d.l.errorf(rng, "Invalid reference", "%s[%d] must be %s, got %s.", name, i, article(kind), typeName(e.Type()))
		case inst == nil:
			d.l.errorf(rng, "Invalid reference", "%s[%d] must be %s, got an object with id %q, which is not a resource instance.", name, i, article(kind), id)
		case inst.kind != kind:
			d.l.errorf(rng, "Invalid reference", "%s[%d] must be %s, got %s.", name, i, article(kind), id)
		case seen[id]:
			d.l.errorf(rng, "Duplicate reference", "%s lists %s more than once.", name, id)
		default:
			seen[id] = true
			d.refs[id] = true
			out = append(out, refItem{inst: inst, rng: rng})
			continue
		}
		d.ok = false
	}
	return out, d.ok
}

func instanceValues(items []*instance) cty.Value {
	if len(items) == 0 {
		return cty.EmptyTupleVal
	}
	vals := make([]cty.Value, len(items))
	for i, it := range items {
		vals[i] = it.value
	}
	return cty.TupleVal(vals)
}

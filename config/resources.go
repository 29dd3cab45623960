package config

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

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

var kindArticle = map[string]string{
	kindNetwork: "a network", kindHost: "a host", kindBridge: "a bridge",
	kindContainer: "a container", kindProcess: "a process", kindCheck: "a check",
}

// ref decodes an argument that must be a resource instance of one of kinds.
func (d *dec) ref(name string, kinds ...string) *instance {
	if !d.has(name) {
		return nil
	}
	var wants []string
	for _, k := range kinds {
		wants = append(wants, kindArticle[k])
	}
	want := strings.Join(wants, " or ")
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
	switch r := inst.res.(type) {
	case *Host:
		return r.Address
	case *Container:
		return r.Address
	}
	return netip.Addr{}
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
	maxLen := MaxNodeName
	if n.rkind == kindHost {
		maxLen = MaxHostName
	}
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
	d.required(resourceSchemas[n.rkind].required...)
	id := cty.StringVal(addr)
	var inst *instance
	var commit func()
	switch n.rkind {
	case kindNetwork:
		inst, commit = l.decodeNetwork(d, res, id)
	case kindHost:
		inst, commit = l.decodeHost(d, n, res, id)
	case kindBridge:
		inst, commit = l.decodeBridge(d, n, res, id)
	case kindContainer:
		inst, commit = l.decodeContainer(d, n, ctx, res, id)
	case kindProcess:
		inst, commit = l.decodeProcess(d, res, id)
	case kindCheck:
		inst, commit = l.decodeCheck(d, n, res, id)
	}
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

func (l *loader) decodeNetwork(d *dec, res Resource, id cty.Value) (*instance, func()) {
	p, ok := d.prefix("cidr")
	if !ok {
		return nil, nil
	}
	for _, o := range l.lab.Networks {
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
	return &instance{value: v, res: nw}, func() { l.lab.Networks = append(l.lab.Networks, nw) }
}

func (l *loader) decodeHost(d *dec, n *node, res Resource, id cty.Value) (*instance, func()) {
	netInst := d.ref("network", kindNetwork)
	provider := "netns"
	if s, ok := d.str("provider"); ok {
		if s != "netns" {
			d.fail("provider", "Unsupported provider", "The provider %q is not supported yet; only \"netns\" is.", s)
		}
		provider = s
	}
	var addr netip.Addr
	explicit := d.has("address")
	if explicit {
		addr, _ = d.ipv4("address")
	}
	if !d.ok || netInst == nil {
		return nil, nil
	}
	nw := netInst.res.(*Network)
	gw := NetworkGateway(nw.CIDR)
	taken := l.netTaken[nw.Addr]
	if explicit {
		d.checkAddress("address", addr, nw.CIDR, gw, nw.Addr, "labnet's underlay gateway")
		if owner := taken[addr]; d.ok && owner != "" {
			d.fail("address", "Duplicate address", "The address %s of %s is already used by %s.", addr, res.Addr, owner)
		}
	} else {
		var ok bool
		addr, ok = allocate(nw.CIDR, 11, gw, taken)
		if !ok {
			l.errorf(&n.rng, "No free address",
				"%s (%s) has no free address for %s (host addresses are allocated from the 11th address on); set address explicitly.",
				nw.Addr, nw.CIDR, res.Addr)
			d.ok = false
		}
	}
	if !d.ok {
		return nil, nil
	}
	h := &Host{Resource: res, Network: nw.Addr, Address: addr, Provider: provider}
	v := cty.ObjectVal(map[string]cty.Value{
		"id":       id,
		"name":     cty.StringVal(res.Name),
		"network":  netInst.value,
		"address":  cty.StringVal(addr.String()),
		"provider": cty.StringVal(provider),
	})
	return &instance{value: v, res: h}, func() {
		if l.netTaken[nw.Addr] == nil {
			l.netTaken[nw.Addr] = map[netip.Addr]string{}
		}
		l.netTaken[nw.Addr][addr] = res.Addr
		l.lab.Hosts = append(l.lab.Hosts, h)
	}
}

func (l *loader) decodeBridge(d *dec, n *node, res Resource, id cty.Value) (*instance, func()) {
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
		l.lab.Bridges = append(l.lab.Bridges, br)
	}
}

var portType = cty.Object(map[string]cty.Type{"host_port": cty.Number, "port": cty.Number, "protocol": cty.String})

func (l *loader) decodeContainer(d *dec, n *node, ctx *hcl.EvalContext, res Resource, id cty.Value) (*instance, func()) {
	hostInst := d.ref("host", kindHost)
	brInst := d.ref("bridge", kindBridge)
	var addr netip.Addr
	explicit := d.has("address")
	if explicit {
		addr, _ = d.ipv4("address")
	}
	// Ports.
	var ports []Port
	var portVals []cty.Value
	published := map[string]bool{}
	var hostPorts map[string]string
	if hostInst != nil {
		hostPorts = l.hostPorts[hostInst.addr]
	}
	for _, pb := range n.ports {
		pd := l.newDec(pb.attrs, ctx)
		pd.required(portSchema.required...)
		hp, _ := pd.port("host_port")
		cp, _ := pd.port("port")
		proto := "tcp"
		if s, ok := pd.str("protocol"); ok {
			if s != "tcp" && s != "udp" {
				pd.fail("protocol", "Invalid protocol", "The protocol must be \"tcp\" or \"udp\", got %q.", s)
			}
			proto = s
		}
		if pd.ok && hostInst != nil {
			key := fmt.Sprintf("%d/%s", hp, proto)
			if owner := hostPorts[key]; owner != "" {
				pd.fail("host_port", "Duplicate published port", "The host port %s on %s is already published by %s.", key, hostInst.addr, owner)
			} else if published[key] {
				pd.fail("host_port", "Duplicate published port", "The host port %s on %s is already published by %s.", key, hostInst.addr, res.Addr)
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
	if !d.ok || hostInst == nil || brInst == nil {
		return nil, nil
	}
	br := brInst.res.(*Bridge)
	if br.Host != hostInst.addr {
		d.fail("bridge", "Bridge on another host", "The bridge %s is on %s, but %s is on %s.", br.Addr, br.Host, res.Addr, hostInst.addr)
		return nil, nil
	}
	taken := l.bridgeTaken[br.Addr]
	if explicit {
		d.checkAddress("address", addr, br.CIDR, br.Gateway, br.Addr, "the bridge's own address")
		if owner := taken[addr]; d.ok && owner != "" {
			d.fail("address", "Duplicate address", "The address %s of %s is already used by %s.", addr, res.Addr, owner)
		}
	} else {
		var ok bool
		addr, ok = allocate(br.CIDR, 2, br.Gateway, taken)
		if !ok {
			l.errorf(&n.rng, "No free address", "%s (%s) has no free address for %s; set address explicitly.", br.Addr, br.CIDR, res.Addr)
			d.ok = false
		}
	}
	if !d.ok {
		return nil, nil
	}
	c := &Container{Resource: res, Host: hostInst.addr, Bridge: br.Addr, Address: addr, Ports: ports}
	portList := cty.ListValEmpty(portType)
	if len(portVals) > 0 {
		portList = cty.ListVal(portVals)
	}
	v := cty.ObjectVal(map[string]cty.Value{
		"id":      id,
		"name":    cty.StringVal(res.Name),
		"host":    hostInst.value,
		"bridge":  brInst.value,
		"address": cty.StringVal(addr.String()),
		"port":    portList,
	})
	return &instance{value: v, res: c}, func() {
		if l.bridgeTaken[br.Addr] == nil {
			l.bridgeTaken[br.Addr] = map[netip.Addr]string{}
		}
		l.bridgeTaken[br.Addr][addr] = res.Addr
		if l.hostPorts[c.Host] == nil {
			l.hostPorts[c.Host] = map[string]string{}
		}
		for key := range published {
			l.hostPorts[c.Host][key] = res.Addr
		}
		l.lab.Containers = append(l.lab.Containers, c)
	}
}

func (l *loader) decodeProcess(d *dec, res Resource, id cty.Value) (*instance, func()) {
	on := d.ref("on", kindHost, kindContainer)
	var command []string
	if d.has("command") {
		v, err := convert.Convert(d.vals["command"], cty.List(cty.String))
		if err != nil {
			d.fail("command", "Incorrect attribute value type", "The command must be a list of strings: %s.", err)
		} else if v.LengthInt() == 0 {
			d.fail("command", "Empty command", "The command must have at least one element, the program to run.")
		} else {
			for i, e := range v.AsValueSlice() {
				rng := d.rng("command")
				if tc, ok := d.attrs["command"].Expr.(*hclsyntax.TupleConsExpr); ok && i < len(tc.Exprs) {
					rng = tc.Exprs[i].Range().Ptr()
				}
				switch {
				case e.IsNull():
					d.l.errorf(rng, "Invalid command", "command[%d] must not be null.", i)
					d.ok = false
				case strings.ContainsRune(e.AsString(), 0):
					d.l.errorf(rng, "Invalid command", "command[%d] must not contain a NUL byte.", i)
					d.ok = false
				case i == 0 && e.AsString() == "":
					d.l.errorf(rng, "Invalid command", "command[0], the program to run, must not be empty.")
					d.ok = false
				default:
					command = append(command, e.AsString())
				}
			}
		}
	}
	if !d.ok || on == nil {
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
	return &instance{value: v, res: p}, func() { l.lab.Processes = append(l.lab.Processes, p) }
}

func (l *loader) decodeCheck(d *dec, n *node, res Resource, id cty.Value) (*instance, func()) {
	from := d.ref("from", kindHost, kindContainer)
	to := d.ref("to", kindHost, kindContainer)

	// Exactly one probe.
	var probes []string
	for _, p := range []string{"ping", "tcp", "udp", "exec"} {
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
			l.errorf(&n.rng, "Missing probe", "A check needs exactly one of ping, tcp, udp or exec.")
			d.ok = false
		}
	case 1:
		c.Kind = probes[0]
	default:
		l.errorf(&d.attrs[probes[1]].Range, "Conflicting probes",
			"A check needs exactly one of ping, tcp, udp or exec; this one sets both %s and %s.", probes[0], probes[1])
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
				"A %s check needs to = <host or container>, where a listener runs on port %d.", c.Kind, c.Port)
			d.ok = false
		}
	case "exec":
		c.Exec, _ = d.str("exec")
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
		l.errorf(&n.rng, "Missing target", "A ping check needs to = <host or container> or address = \"IP\".")
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
			c.Dial = netip.AddrPortFrom(nodeAddress(to), uint16(c.Port))
		}
	}
	str := func(s string) cty.Value { return cty.StringVal(s) }
	num := func(i int) cty.Value { return cty.NumberIntVal(int64(i)) }
	v := cty.ObjectVal(map[string]cty.Value{
		"id":      id,
		"name":    cty.StringVal(res.Name),
		"from":    from.value,
		"to":      toVal,
		"ping":    nullOr(c.Kind == "ping", true, cty.BoolVal, cty.Bool),
		"tcp":     nullOr(c.Kind == "tcp", c.Port, num, cty.Number),
		"udp":     nullOr(c.Kind == "udp", c.Port, num, cty.Number),
		"exec":    nullOr(c.Kind == "exec", c.Exec, str, cty.String),
		"address": nullOr(addrSet, addrText, str, cty.String),
		"expect":  cty.StringVal(c.Expect),
		"source":  nullOr(sourceSet, c.Source.String(), str, cty.String),
		"timeout": cty.StringVal(timeout),
	})
	return &instance{value: v, res: c}, func() { l.lab.Checks = append(l.lab.Checks, c) }
}

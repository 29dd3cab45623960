package config

import (
	"net/netip"
	"regexp"
	"sort"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

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

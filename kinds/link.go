package kinds

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
)

// link: a point-to-point wire between two nodes (hosts or guests). On one
// host it is one resource, a veth pair (type "veth", ends a_ and b_);
// across hosts each host has one end (type "vxlan", end a_ only), a VXLAN
// device to the other host.
type link struct{}

func init() {
	register(link{})
	expands(phaseOnNodes, expandLinks)
	draws(8, drawLinks)
}

// expandLinks: a veth pair on one host; across hosts an end on each,
// tunnelled.
func expandLinks(x *Expansion) {
	for _, k := range x.Lab.Links() {
		end := func(side string, e config.Endpoint, a Attrs) {
			var addrs []string
			for _, p := range e.Addresses {
				addrs = append(addrs, p.String())
			}
			gw := ""
			if e.Gateway.IsValid() {
				gw = e.Gateway.String()
			}
			a[side+"_node"], a[side+"_netns"], a[side+"_ifname"] = e.Node, x.nodes[e.Node].netns, e.Ifname
			a[side+"_addrs"], a[side+"_gateway"] = strings.Join(addrs, " "), gw
		}
		shaped := func(a Attrs) Attrs {
			for key, v := range shapingAttrs(k.Shaping) {
				a[key] = v
			}
			return a
		}
		if !k.CrossHost() {
			x0, y := k.Ends[0], k.Ends[1]
			a := shaped(Attrs{"host": x0.Host, "type": "veth", "mtu": strconv.Itoa(k.MTU)})
			end("a", x0, a)
			end("b", y, a)
			x.add(&Resource{Addr: k.Addr, Kind: Link, Host: x0.Host, Attrs: a, Deps: x.deps(k.Addr, x0.Host)})
			continue
		}
		for i, e := range k.Ends {
			other := k.Ends[1-i]
			a := shaped(Attrs{"host": e.Host, "type": "vxlan", "mtu": strconv.Itoa(k.MTU),
				"vni": strconv.Itoa(k.VNI), "port": strconv.Itoa(k.Port),
				"local": x.host(e.Host).Address.String(), "remote": x.host(other.Host).Address.String(),
				"peer": LinkEndAddr(k.Addr, 1-i)})
			end("a", e, a)
			x.add(&Resource{Addr: LinkEndAddr(k.Addr, i), Kind: Link, Host: e.Host, Attrs: a, Deps: []string{e.Host, e.Node}})
		}
	}
}

func (link) Info() Info {
	return Info{Name: Link, Order: 10, Parents: []string{"a_node", "b_node"}, WithHost: true,
		ForceNew: []string{"host", "type", "a_node", "a_netns", "a_ifname", "b_node", "b_netns", "b_ifname",
			"vni", "port", "local", "remote", "peer"}}
}

// Faults: a link can be taken down and brought up again, and shaped
// otherwise than the lab says ("shape rate=1mbit delay=50ms loss=5%")
// and back ("unshape").
func (link) Faults() []string { return []string{"down", "up", "shape", "unshape"} }

// linkEnd is one end of a link on this host, as its spec holds it.
type linkEnd struct {
	Node    string         `json:"node,omitzero"`
	Netns   string         `json:"netns,omitzero"` // "" for the host's own namespace
	Ifname  string         `json:"ifname,omitzero"`
	Addrs   []netip.Prefix `json:"addrs,omitempty"`
	Gateway netip.Addr     `json:"gateway,omitzero"`
}

// linkSpec is a link's typed spec: a veth pair (A and B), or one host's
// end of a tunnel (A, and the tunnel's identity).
type linkSpec struct {
	Host string   `json:"host,omitzero"`
	Type string   `json:"type,omitzero"` // veth or vxlan
	A    linkEnd  `json:"a"`
	B    *linkEnd `json:"b,omitempty"`
	MTU  int      `json:"mtu,omitzero"`
	// vxlan only
	VNI    int        `json:"vni,omitzero"`
	Port   int        `json:"port,omitzero"`
	Local  netip.Addr `json:"local,omitzero"`
	Remote netip.Addr `json:"remote,omitzero"`
	Peer   string     `json:"peer,omitzero"` // the other host's end
	// Shaping keeps its units, as a guest's does.
	Rate  string `json:"rate,omitzero"`
	Delay string `json:"delay,omitzero"`
	Loss  string `json:"loss,omitzero"`

	shape hostnet.Shaping
}

func linkSpecOf(addr string, a Attrs) (*linkSpec, error) {
	p := parser{a: a}
	s := &linkSpec{Host: p.str("host"), Type: p.str("type"), MTU: p.num("mtu", 68, 65535), shape: p.shaping()}
	s.Rate, s.Delay, s.Loss = a["rate"], a["delay"], a["loss"]
	end := func(side string) linkEnd {
		e := linkEnd{Node: p.str(side + "_node"), Netns: p.optName(side + "_netns"), Ifname: p.name(side + "_ifname"),
			Addrs: p.prefixes(side + "_addrs"), Gateway: p.optAddr(side + "_gateway")}
		if e.Gateway.IsValid() && e.Netns == "" {
			p.fail(side+"_gateway", fmt.Errorf("a host's end sets no default route"))
		}
		return e
	}
	s.A = end("a")
	switch s.Type {
	case "veth":
		b := end("b")
		s.B = &b
	case "vxlan":
		s.VNI, s.Port = p.num("vni", 1, 1<<24-1), p.num("port", 1, 65535)
		s.Local, s.Remote, s.Peer = p.addr("local"), p.addr("remote"), p.str("peer")
	case "":
	default:
		p.fail("type", fmt.Errorf("not veth or vxlan"))
	}
	return s, p.done(addr)
}

func (s *linkSpec) Attrs() Attrs {
	o := make(out, 20)
	o.str("host", s.Host)
	o.str("type", s.Type)
	o.num("mtu", s.MTU)
	end := func(side string, e linkEnd) {
		o.str(side+"_node", e.Node)
		o.str(side+"_netns", e.Netns)
		o.str(side+"_ifname", e.Ifname)
		var addrs []string
		for _, p := range e.Addrs {
			addrs = append(addrs, p.String())
		}
		o.str(side+"_addrs", strings.Join(addrs, " "))
		o.addr(side+"_gateway", e.Gateway)
	}
	end("a", s.A)
	if s.B != nil {
		end("b", *s.B)
	}
	o.num("vni", s.VNI)
	o.num("port", s.Port)
	o.addr("local", s.Local)
	o.addr("remote", s.Remote)
	o.str("peer", s.Peer)
	o.str("rate", s.Rate)
	o.str("delay", s.Delay)
	o.str("loss", s.Loss)
	return Attrs(o)
}

func (link) Spec(addr string, a Attrs) (Spec, error) { return linkSpecOf(addr, a) }
func (link) NewSpec() Spec                           { return &linkSpec{} }

// linkOf is the wire a link's spec makes on its host.
func linkOf(addr string, a Attrs) (hostnet.Wire, error) {
	s, err := linkSpecOf(addr, a)
	if err != nil {
		return hostnet.Wire{}, err
	}
	end := func(e linkEnd) hostnet.WireEnd {
		return hostnet.WireEnd{Netns: e.Netns, Ifname: e.Ifname, Addrs: e.Addrs, Gateway: e.Gateway}
	}
	w := hostnet.Wire{Addr: addr, MTU: s.MTU, Shape: s.shape, Host: s.Host, Ends: []hostnet.WireEnd{end(s.A)}}
	if s.B != nil {
		w.Ends = append(w.Ends, end(*s.B))
	}
	if s.Type == "vxlan" {
		w.Vxlan = &hostnet.VxlanInfo{VNI: s.VNI, Port: s.Port, Local: s.Local, Remote: s.Remote}
	}
	return w, nil
}

// prefixes reads a space-separated list of addresses with their prefix
// lengths ("" is none).
func (p *parser) prefixes(key string) []netip.Prefix {
	var out []netip.Prefix
	for _, f := range strings.Fields(p.get(key)) {
		v, err := netip.ParsePrefix(f)
		if err != nil || !v.Addr().Is4() {
			p.fail(key, fmt.Errorf("%q is not an IPv4 address with a prefix length", f))
			return nil
		}
		out = append(out, v)
	}
	return out
}

// Describe: each end on this host as NODE:IFNAME ADDRESS,...
func (link) Describe(a Attrs) []string {
	var out []string
	for _, side := range []string{"a", "b"} {
		if a[side+"_node"] == "" {
			continue
		}
		e := a[side+"_node"] + ":" + a[side+"_ifname"]
		if addrs := strings.Fields(a[side+"_addrs"]); len(addrs) > 0 {
			e += " " + strings.Join(addrs, ",")
		}
		out = append(out, e)
	}
	if a["type"] == "vxlan" {
		out = append(out, "vxlan vni "+a["vni"]+" to "+a["remote"])
	}
	return out
}

// Reads: each end is read in its node's namespace (the host's links for a
// host's end).
func (link) Reads(r *Reads, a Attrs) {
	r.Tool("ip")
	if a["rate"]+a["delay"]+a["loss"] != "" {
		r.Tool("tc")
	}
	for _, side := range []string{"a", "b"} {
		ifname, netns := a[side+"_ifname"], a[side+"_netns"]
		switch {
		case ifname == "":
		case netns == "":
			r.Link(ifname)
		case r.Kept(netns):
			r.Inside(netns)
		}
	}
}

func (link) Judge(n hostnet.Names, addr string, a Attrs, k *hostnet.Observed, going bool) (hostnet.Verdict, error) {
	return judge(linkOf, n, addr, a, k)
}

func (link) Step(n hostnet.Names, op Op, k *hostnet.Observed) (hostnet.Step, error) {
	w, err := linkOf(op.Addr, op.Attrs())
	if err != nil {
		return hostnet.Step{}, err
	}
	if op.Delete {
		return hostnet.Step{Shell: w.DeleteShell()}, nil
	}
	s := hostnet.Step{Inside: w.Inside(n), Shell: w.ShapeShell(op.Update)}
	if !op.Update {
		s.Batch = w.CreateBatch()
	}
	return s, nil
}

// Fault takes the link's ends on this host down; up sets them up as
// create does, routes included (the kernel drops the routes through an
// interface that goes down); shape gives them another shaping, unshape
// the lab's again.
func (link) Fault(n hostnet.Names, addr string, a Attrs, action string) (hostnet.Step, error) {
	w, err := linkOf(addr, a)
	if err != nil {
		return hostnet.Step{}, err
	}
	verb, args, _ := strings.Cut(action, " ")
	switch verb {
	case "up":
		return hostnet.Step{Inside: w.Inside(n)}, nil
	case "shape":
		sa := Attrs{}
		for _, kv := range strings.Fields(args) {
			k, v, _ := strings.Cut(kv, "=")
			if k != "rate" && k != "delay" && k != "loss" {
				return hostnet.Step{}, fmt.Errorf("shape takes rate=, delay= and loss=, not %q", kv)
			}
			sa[k] = v
		}
		p := parser{a: sa}
		w.Shape = p.shaping()
		if err := p.done(addr); err != nil {
			return hostnet.Step{}, err
		}
		return hostnet.Step{Shell: w.ShapeShell(true)}, nil
	case "unshape":
		return hostnet.Step{Shell: w.ShapeShell(true)}, nil
	}
	return hostnet.Step{Shell: w.DownShell()}, nil
}

// drawLinks: a wire between two nodes, its ends' names and addresses on the
// line; a tunnel across hosts dashed.
func drawLinks(d *Drawing) {
	for _, k := range d.Lab.Links() {
		end := func(e config.Endpoint) string {
			var a []string
			for _, p := range e.Addresses {
				a = append(a, p.String())
			}
			return strings.TrimSpace(e.Ifname + " " + strings.Join(a, ","))
		}
		label := end(k.Ends[0]) + " -- " + end(k.Ends[1])
		if k.CrossHost() {
			label += fmt.Sprintf(" (vxlan vni %d)", k.VNI)
		}
		d.line(k.Ends[0].Node, k.Ends[1].Node, label, k.CrossHost())
	}
}

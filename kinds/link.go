package kinds

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/labnet-dev/labnet/hostnet"
)

// link: a point-to-point wire between two nodes (hosts or guests). On one
// host it is one resource, a veth pair (type "veth", ends a_ and b_);
// across hosts each host has one end (type "vxlan", end a_ only), a VXLAN
// device to the other host.
type link struct{}

func init() { register(link{}) }

func (link) Info() Info {
	return Info{Name: Link, Order: 10, Parents: []string{"a_node", "b_node"}, WithHost: true,
		ForceNew: []string{"host", "type", "a_node", "a_netns", "a_ifname", "b_node", "b_netns", "b_ifname",
			"vni", "port", "local", "remote", "peer"}}
}

// Faults: a link can be taken down and brought up again, and shaped
// otherwise than the lab says ("shape rate=1mbit delay=50ms loss=5%")
// and back ("unshape").
func (link) Faults() []string { return []string{"down", "up", "shape", "unshape"} }

func linkOf(addr string, a Attrs) (hostnet.Wire, error) {
	p := parser{a: a}
	w := hostnet.Wire{Addr: addr, MTU: p.num("mtu", 68, 65535), Shape: p.shaping(), Host: p.str("host")}
	end := func(side string) hostnet.WireEnd {
		p.str(side + "_node")
		e := hostnet.WireEnd{Netns: p.optName(side + "_netns"), Ifname: p.name(side + "_ifname"),
			Addrs: p.prefixes(side + "_addrs"), Gateway: p.optAddr(side + "_gateway")}
		if e.Gateway.IsValid() && e.Netns == "" {
			p.fail(side+"_gateway", fmt.Errorf("a host's end sets no default route"))
		}
		return e
	}
	w.Ends = append(w.Ends, end("a"))
	switch t := a["type"]; t {
	case "veth":
		w.Ends = append(w.Ends, end("b"))
	case "vxlan":
		w.Vxlan = &hostnet.VxlanInfo{VNI: p.num("vni", 1, 1<<24-1), Port: p.num("port", 1, 65535),
			Local: p.addr("local"), Remote: p.addr("remote")}
		p.str("peer")
	default:
		p.fail("type", fmt.Errorf("not veth or vxlan"))
	}
	return w, p.done(addr)
}

// prefixes reads a space-separated list of addresses with their prefix
// lengths ("" is none).
func (p *parser) prefixes(key string) []netip.Prefix {
	var out []netip.Prefix
	for _, f := range strings.Fields(p.a[key]) {
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

func (link) Check(addr string, a Attrs) error { _, err := linkOf(addr, a); return err }

// Reads: each end is read in its node's namespace (the host's links for a
// host's end).
func (link) Reads(r *Reads, a Attrs) {
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

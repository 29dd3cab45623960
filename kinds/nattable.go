package kinds

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/labnet-dev/labnet/hostnet"
)

// natTable: the lab's nft table on a host, with every rule its bridges,
// published ports and pod networks need, replaced as one.
type natTable struct{}

func init() {
	register(natTable{})
	expands(phaseHosts, expandNatTables)
}

// expandNatTables: one nat table per host that has rules.
func expandNatTables(x *Expansion) {
	for _, h := range x.Lab.Hosts() {
		rs := x.rules[h.Addr]
		if len(rs) == 0 {
			continue
		}
		hostnet.SortRules(rs)
		x.add(&Resource{Addr: NatTableAddr(h.Name), Kind: NatTable, Host: h.Addr, Attrs: Attrs{
			"host": h.Addr, "table": x.Names.Table(), "rules": RulesAttr(rs),
		}, Deps: []string{h.Addr}})
	}
}

func (natTable) Info() Info {
	return Info{Name: NatTable, Order: 11, Parents: []string{"host"}, ForceNew: []string{"host"}}
}

// natTableSpec is a host's nat table's typed spec: its rules as objects
// (the "rules" attribute holds them as JSON text, RulesAttr).
type natTableSpec struct {
	Host  string    `json:"host,omitzero"`
	Table string    `json:"table,omitzero"`
	Rules []natRule `json:"rules,omitempty"`
}

// natRule is a hostnet.NatRule with the state file's member names. It
// converts to and from one, so a field added to hostnet.NatRule and not
// here stops the build rather than going missing from the state.
type natRule struct {
	Owner   string       `json:"owner,omitzero"`
	Kind    string       `json:"kind,omitzero"`
	Source  netip.Prefix `json:"source,omitzero"`
	NotDest netip.Prefix `json:"not_dest,omitzero"`
	Dest    netip.Prefix `json:"dest,omitzero"`
	Proto   string       `json:"proto,omitzero"`
	DstAddr netip.Addr   `json:"dst_addr,omitzero"`
	DstPort int          `json:"dst_port,omitzero"`
	ToAddr  netip.Addr   `json:"to_addr,omitzero"`
	ToPort  int          `json:"to_port,omitzero"`
}

func natTableSpecOf(addr string, a Attrs) (*natTableSpec, error) {
	p := parser{a: a}
	s := &natTableSpec{Host: p.str("host"), Table: p.name("table")}
	var rs []hostnet.NatRule
	p.json("rules", &rs)
	if p.err == nil && len(rs) == 0 {
		p.fail("rules", fmt.Errorf("empty"))
	}
	s.Rules = make([]natRule, len(rs))
	for i, r := range rs {
		s.Rules[i] = natRule(r)
	}
	return s, p.done(addr)
}

func (s *natTableSpec) Attrs() Attrs {
	o := make(out, 3)
	o.str("host", s.Host)
	o.str("table", s.Table)
	if len(s.Rules) > 0 {
		rs := make([]hostnet.NatRule, len(s.Rules))
		for i, r := range s.Rules {
			rs[i] = hostnet.NatRule(r)
		}
		o.str("rules", RulesAttr(rs))
	}
	return Attrs(o)
}

func (natTable) Spec(addr string, a Attrs) (Spec, error) { return natTableSpecOf(addr, a) }
func (natTable) NewSpec() Spec                           { return &natTableSpec{} }

// RulesAttr is a nat table's "rules" attribute: its rules as JSON.
func RulesAttr(rs []hostnet.NatRule) string { return jsonAttr(rs) }

func rulesOf(addr string, a Attrs) ([]hostnet.NatRule, error) {
	s, err := natTableSpecOf(addr, a)
	rs := make([]hostnet.NatRule, len(s.Rules))
	for i, r := range s.Rules {
		rs[i] = hostnet.NatRule(r)
	}
	return rs, err
}

func (natTable) Reads(r *Reads, a Attrs) {
	r.Nft()
	r.Tool("nft")
}

func (natTable) Judge(n hostnet.Names, addr string, a Attrs, k *hostnet.Observed, going bool) (hostnet.Verdict, error) {
	if !k.NftPresent {
		return hostnet.Verdict{Drift: []string{"nft table " + a["table"] + " is missing"}}, nil
	}
	want, err := rulesOf(addr, a)
	if err != nil {
		return hostnet.Verdict{}, err
	}
	v := hostnet.Verdict{Exists: true}
	for _, r := range want {
		if !slices.Contains(k.Nft, r) {
			v.Drift = append(v.Drift, "rule missing: "+r.String())
		}
	}
	for _, r := range k.Nft {
		if !slices.Contains(want, r) {
			v.Drift = append(v.Drift, "unexpected rule: "+r.String())
		}
	}
	return v, nil
}

func (natTable) Step(n hostnet.Names, op Op, k *hostnet.Observed) (hostnet.Step, error) {
	if op.Delete {
		return hostnet.Step{Shell: hostnet.NftDeleteShell(n)}, nil
	}
	rs, err := rulesOf(op.Addr, op.Attrs())
	if err != nil {
		return hostnet.Step{}, err
	}
	return hostnet.Step{Shell: hostnet.NftApplyShell(n, rs)}, nil
}

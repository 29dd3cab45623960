package kinds

import (
	"slices"

	"github.com/labnet-dev/labnet/hostnet"
)

// natTable: the lab's nft table on a host, with every rule its bridges,
// published ports and pod networks need, replaced as one.
type natTable struct{}

func init() { register(natTable{}) }

func (natTable) Info() Info {
	return Info{Name: NatTable, Order: 11, Parents: []string{"host"}, ForceNew: []string{"host"}}
}

func rulesOf(addr string, a Attrs) ([]hostnet.NatRule, error) {
	p := parser{a: a}
	var rs []hostnet.NatRule
	p.json("rules", &rs)
	return rs, p.done(addr)
}

func (natTable) Check(addr string, a Attrs) error { _, err := rulesOf(addr, a); return err }
func (natTable) Reads(r *Reads, a Attrs)          { r.Nft() }

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

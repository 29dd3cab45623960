package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Scenario is an ordered list of steps `labnet test` runs after the lab's
// other checks: faults done to the lab, and checks that must pass then.
// The faults it leaves in place are undone at its end, also when a step
// fails.
type Scenario struct {
	Resource
	Steps []ScenarioStep
}

// ScenarioStep is one step: either a fault (Fault done to On) or Checks.
type ScenarioStep struct {
	Name   string
	Fault  string   // "down", "up", "stop", "start"
	On     string   // the faulted resource's address
	Checks []string // check addresses
	Range  hcl.Range
}

// Undo is the fault that undoes a fault ("" when it undoes nothing).
func Undo(fault string) string {
	verb, _, _ := strings.Cut(fault, " ")
	return map[string]string{"down": "up", "stop": "start", "shape": "unshape"}[verb]
}

// ParseFault reads a fault as a lab or the command line writes it: "down",
// "stop", or a shaping "rate=1mbit delay=50ms loss=5%", which becomes
// "shape rate=1mbit delay=50ms loss=5%" with its values checked.
func ParseFault(s string) (string, error) {
	if !strings.Contains(s, "=") {
		return strings.TrimSpace(s), nil
	}
	words := []string{"shape"}
	for _, kv := range strings.Fields(s) {
		k, v, ok := strings.Cut(kv, "=")
		var err error
		switch {
		case !ok:
			err = fmt.Errorf("%q is not name=value", kv)
		case k == "rate":
			var bits float64
			bits, v, err = ParseRate(v)
			if err == nil && (bits < MinRateBits || bits > MaxRateBits) {
				err = fmt.Errorf("the rate must be from 1kbit to 100gbit, got %s", v)
			}
		case k == "delay":
			var d time.Duration
			if d, err = time.ParseDuration(v); err == nil && (d < 0 || d >= MaxDelay) {
				err = fmt.Errorf("the delay must be from 0 to less than 60s, got %s", v)
			}
		case k == "loss":
			_, err = ParseLoss(v)
		default:
			err = fmt.Errorf("a shaping fault sets rate, delay and loss, not %s", k)
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", kv, err)
		}
		words = append(words, k+"="+v)
	}
	return strings.Join(words, " "), nil
}

const kindScenario = "scenario"

func init() {
	registerKind(kindDef{
		name: kindScenario, seq: 10, decode: (*loader).decodeScenario,
		schema: blockSchema{blocks: []nested{{hcl.BlockHeaderSchema{Type: "step"},
			blockSchema{attrs: []string{"name", "fault", "on", "checks"}}}}},
	})
}

// Scenarios are the lab's scenario blocks' instances, in declaration order.
func (l *Lab) Scenarios() []*Scenario { return listOf[*Scenario](l, kindScenario) }

func (l *loader) decodeScenario(d *dec, n *node, ctx *hcl.EvalContext, res Resource, id cty.Value) (*instance, func()) {
	blocks := n.blocksOf("step")
	if len(blocks) == 0 {
		l.errorf(&n.rng, "Empty scenario", "%s has no step blocks.", res.Addr)
		return nil, nil
	}
	sc := &Scenario{Resource: res}
	targets := faultTargets()
	for i, sb := range blocks {
		sd := l.newDec(sb.attrs, ctx)
		st := ScenarioStep{Range: sb.block.DefRange}
		st.Name, _ = sd.str("name")
		_, hasFault := sb.attrs["fault"]
		_, hasChecks := sb.attrs["checks"]
		switch {
		case hasFault == hasChecks:
			l.errorf(&sb.block.DefRange, "Invalid step",
				"Step %d of %s must have either fault (with on) or checks, not %s.", i+1, res.Addr, map[bool]string{true: "both", false: "neither"}[hasFault])
			sd.ok = false
		case hasChecks:
			items, _ := sd.refList("checks", kindCheck)
			for _, it := range items {
				st.Checks = append(st.Checks, it.inst.addr)
			}
			if _, ok := sb.attrs["on"]; ok {
				sd.fail("on", "Invalid step", "on names what a fault is done to; step %d of %s has no fault.", i+1, res.Addr)
			}
		default:
			sd.required("fault", "on")
			if _, ok := sb.attrs["on"]; !ok {
				l.errorf(&sb.block.DefRange, "Missing on", "Step %d of %s does a fault; on = <%s> says to what.", i+1, res.Addr, orList(targets))
				sd.ok = false
			}
			text, _ := sd.str("fault")
			fault, err := ParseFault(text)
			if err != nil {
				sd.fail("fault", "Invalid fault", "%v.", err)
			}
			verb, _, _ := strings.Cut(fault, " ")
			inst := sd.ref("on", targets...)
			if inst != nil && sd.ok {
				if !slices.Contains(Faults(inst.kind), verb) {
					sd.fail("fault", "Unknown fault", "%s has no fault %q; %s %s can be: %s.", inst.addr, fault, article(inst.kind), inst.addr, strings.Join(Faults(inst.kind), ", "))
				}
				st.Fault, st.On = fault, inst.addr
			}
		}
		for ref := range sd.refs {
			d.refs[ref] = true
		}
		if !sd.ok {
			d.ok = false
			continue
		}
		if st.Name == "" {
			st.Name = stepName(i, st)
		}
		sc.Steps = append(sc.Steps, st)
	}
	if !d.ok {
		return nil, nil
	}
	v := cty.ObjectVal(map[string]cty.Value{"id": id, "name": cty.StringVal(res.Name)})
	return &instance{value: v, res: sc}, func() { add(l.lab, kindScenario, sc) }
}

// stepName is a step's name when the lab gives none: "link.r1-r2 down".
func stepName(i int, st ScenarioStep) string {
	if st.Fault != "" {
		return st.On + " " + st.Fault
	}
	return strings.Join(st.Checks, ", ")
}

package cli

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/labnet-dev/labnet/apply"
	"github.com/labnet-dev/labnet/check"
	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
	"github.com/labnet-dev/labnet/state"
)

func (u *ui) fault(ctx context.Context, args []string) int {
	fs := newFlags(u, "fault", "fault [options] TARGET ACTION\n\nBreaks the applied lab on purpose: a link goes down or comes up, or is shaped\n(rate=, delay=, loss=; unshape puts the lab's shaping back); a node's\nprocesses stop or start. Refresh shows a fault as drift until it is undone\nor `labnet apply` repairs it.\n\nExamples:\n  labnet fault link.r1-r2 down\n  labnet fault link.r1-r2 up\n  labnet fault link.r1-r2 rate=1mbit\n  labnet fault container.r2 stop")
	var rf runFlags
	rf.add(fs)
	if fs.Parse(args) != nil {
		return 1
	}
	if fs.NArg() < 2 {
		u.errorf("usage: labnet fault TARGET ACTION (e.g. labnet fault link.r1-r2 down)")
		return 1
	}
	target := fs.Arg(0)
	action, err := config.ParseFault(strings.Join(fs.Args()[1:], " "))
	if err != nil {
		u.errorf("%v", err)
		return 1
	}
	w, st, e, done, ok := u.open(ctx, rf, "fault", false, false)
	if !ok {
		return 1
	}
	defer done()
	if len(st.Resources) == 0 {
		u.errorf("the lab is not applied: run `labnet apply` first")
		return 1
	}
	start := time.Now()
	var n int
	n, err = doFault(ctx, e, st, w.lab.Name, target, action)
	if err != nil {
		u.errorf("%v", err)
		return 1
	}
	fmt.Fprintf(u.stdout, "%s %s: done on %d resource(s) (%s)\n", target, action, n, time.Since(start).Round(time.Millisecond))
	return 0
}

// faultStep is a fault's share on one resource.
type faultStep struct {
	addr, host string
	step       hostnet.Step
}

// faultSteps says what action at target does: what the resources at
// target (a link's ends on each host) and inside it (a node's processes)
// whose kind has that fault do. The faults a target has are the
// language's (config.Faults), as validate knows them.
func faultSteps(st *state.State, lab, target, action string) ([]faultStep, error) {
	typ, _, _ := strings.Cut(target, ".")
	verb, _, _ := strings.Cut(action, " ")
	if !slices.Contains(config.Faults(typ), verb) {
		if len(config.Faults(typ)) == 0 {
			return nil, fmt.Errorf("%s has no faults: links go down and up, nodes' processes stop and start", target)
		}
		return nil, fmt.Errorf("%s has no fault %q; its faults are: %s", target, action, strings.Join(config.Faults(typ), ", "))
	}
	at := func(r *state.Resource) bool { return r.Addr == target || strings.HasPrefix(r.Addr, target+"/") }
	if !slices.ContainsFunc(st.Resources, at) {
		return nil, fmt.Errorf("no applied resource %s", target)
	}
	inside := func(r *state.Resource) bool {
		for _, p := range kinds.Of(r.Kind).Parents {
			if r.Attrs[p] == target {
				return true
			}
		}
		return false
	}
	names := hostnet.Names{Lab: lab}
	var out []faultStep
	for _, r := range st.Resources {
		f, ok := kinds.FaulterOf(r.Kind)
		if !ok || !slices.Contains(f.Faults(), verb) || !(at(r) || inside(r)) {
			continue
		}
		s, err := f.Fault(names, r.Addr, r.Attrs, action)
		if err != nil {
			return nil, err
		}
		out = append(out, faultStep{addr: r.Addr, host: r.Host, step: s})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: nothing there to %s", target, action)
	}
	return out, nil
}

// doFault does action to target on the applied lab, one exchange per
// host; it returns how many resources it touched.
func doFault(ctx context.Context, e *apply.Engine, st *state.State, lab, target, action string) (int, error) {
	steps, err := faultSteps(st, lab, target, action)
	if err != nil {
		return 0, err
	}
	byHost := map[string][]faultStep{}
	for _, s := range steps {
		byHost[s.host] = append(byHost[s.host], s)
	}
	hosts := make([]string, 0, len(byHost))
	for h := range byHost {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		c, err := e.Conn(ctx, st.Get(h))
		if err != nil {
			return 0, err
		}
		// The steps go as apply's do: one script, each step's outcome read.
		script := hostnet.Script{}
		for i, s := range byHost[h] {
			s.step.ID = i
			script.Steps = append(script.Steps, s.step)
		}
		out, err := script.Run(ctx, c)
		if err != nil {
			return 0, fmt.Errorf("%s %s on %s: %w", target, action, h, err)
		}
		for i, s := range byHost[h] {
			if err := out[i]; err != nil {
				return 0, fmt.Errorf("%s %s: %s on %s: %v", target, action, s.addr, h, err)
			}
		}
	}
	return len(steps), nil
}

// scenarioChecks are the checks that scenarios name: they run only in
// their scenarios' steps (a check that a link is down fails otherwise).
func scenarioChecks(lab *config.Lab) map[string]bool {
	m := map[string]bool{}
	for _, sc := range lab.Scenarios() {
		for _, st := range sc.Steps {
			for _, c := range st.Checks {
				m[c] = true
			}
		}
	}
	return m
}

// runScenario runs a scenario's steps in order, stopping at the first that
// fails, then undoes the faults it left in place. Each step is a result
// (a JUnit case); so is the undoing, when it fails.
func runScenario(ctx context.Context, e *apply.Engine, st *state.State, w *workspace, sc *config.Scenario, parallel int) []check.Result {
	byAddr := map[string]*config.Check{}
	for _, c := range w.lab.Checks() {
		byAddr[c.Addr] = c
	}
	var out []check.Result
	var undo []config.ScenarioStep // faults in place, oldest first
	failed := false
	for i, step := range sc.Steps {
		r := check.Result{Name: fmt.Sprintf("%s #%d: %s", sc.Name, i+1, step.Name), Expected: "pass"}
		if failed {
			r.Kind, r.Observed, r.Detail = "skipped", "skipped", "an earlier step failed"
			out = append(out, r)
			continue
		}
		start := time.Now()
		if step.Fault != "" {
			r.Kind, r.From = "fault "+step.Fault, step.On
			if _, err := doFault(ctx, e, st, w.lab.Name, step.On, step.Fault); err != nil {
				r.Observed, r.Detail = "error", err.Error()
			} else {
				r.Observed, r.Pass = "pass", true
			}
			// Undone at the end even when it failed half-way (one end of a
			// link down, the other's host unreachable): undoing what was
			// not done changes nothing.
			verb, _, _ := strings.Cut(step.Fault, " ")
			undo = slices.DeleteFunc(undo, func(u config.ScenarioStep) bool { return u.On == step.On && config.Undo(u.Fault) == verb })
			if config.Undo(step.Fault) != "" {
				undo = append(undo, step)
			}
		} else {
			var checks []*config.Check
			for _, a := range step.Checks {
				checks = append(checks, byAddr[a])
			}
			r.Kind = "checks"
			res := check.Run(ctx, checks, w.nodes(st), w.conns(e, st), parallel)
			r.Pass = true
			var lines []string
			for _, c := range res {
				status := "pass"
				if !c.Pass {
					r.Pass, status = false, "FAIL"
				}
				line := fmt.Sprintf("%s %s (%s", c.Name, status, c.Elapsed.Round(time.Millisecond))
				if c.Tries > 1 {
					line += fmt.Sprintf(", %d tries", c.Tries)
				}
				line += ")"
				if !c.Pass && c.Detail != "" {
					line += ": " + c.Detail
				}
				lines = append(lines, line)
			}
			r.Detail = strings.Join(lines, "; ")
			r.Observed = map[bool]string{true: "pass", false: "fail"}[r.Pass]
		}
		r.Elapsed = time.Since(start)
		failed = !r.Pass
		out = append(out, r)
	}
	// Undo what is still broken, newest first, whatever happened above.
	for i := len(undo) - 1; i >= 0; i-- {
		u := undo[i]
		fault := config.Undo(u.Fault)
		if _, err := doFault(ctx, e, st, w.lab.Name, u.On, fault); err != nil {
			out = append(out, check.Result{Name: fmt.Sprintf("%s: undo %s %s", sc.Name, u.On, u.Fault), Kind: "fault " + fault, From: u.On,
				Expected: "pass", Observed: "error", Detail: err.Error()})
		}
	}
	return out
}

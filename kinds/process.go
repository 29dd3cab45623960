package kinds

import (
	"fmt"

	"github.com/labnet-dev/labnet/hostnet"
)

// process: a long-running command in a host's or a guest's namespace,
// marked with its owner so that refresh and destroy find it.
type process struct{}

func init() { register(process{}) }

func (process) Info() Info {
	return Info{Name: Process, Order: 12, Parents: []string{"on"}, WithHost: true,
		ForceNew: []string{"on", "host", "host_name", "netns", "command", "owner", "log"}}
}

func processOf(addr string, a Attrs) (hostnet.Process, error) {
	p := parser{a: a}
	var cmd []string
	p.json("command", &cmd)
	if p.err == nil && len(cmd) == 0 {
		p.fail("command", fmt.Errorf("empty"))
	}
	pr := hostnet.Process{Addr: addr, Owner: p.str("owner"), Netns: p.optName("netns"), Command: cmd, Log: p.str("log")}
	return pr, p.done(addr)
}

func (process) Check(addr string, a Attrs) error { _, err := processOf(addr, a); return err }
func (process) Reads(r *Reads, a Attrs)          { r.Procs() }

func (process) Judge(n hostnet.Names, addr string, a Attrs, k *hostnet.Observed, going bool) (hostnet.Verdict, error) {
	if len(k.Procs[a["owner"]]) > 0 {
		return hostnet.Verdict{Exists: true}, nil
	}
	return hostnet.Verdict{Drift: []string{"process is not running"}}, nil
}

func (process) Step(n hostnet.Names, op Op, k *hostnet.Observed) (hostnet.Step, error) {
	p, err := processOf(op.Addr, op.Attrs())
	if err != nil {
		return hostnet.Step{}, err
	}
	if op.Delete {
		return hostnet.Step{Shell: p.StopShell()}, nil
	}
	return hostnet.Step{Shell: p.StartShell(), Verify: p.Verify()}, nil
}

// Faults: a process can be stopped, and started again.
func (process) Faults() []string { return []string{"stop", "start"} }

// Fault stops the process, or starts it when it is not running.
func (process) Fault(n hostnet.Names, addr string, a Attrs, action string) (hostnet.Step, error) {
	p, err := processOf(addr, a)
	if err != nil {
		return hostnet.Step{}, err
	}
	if action == "stop" {
		return hostnet.Step{Shell: p.StopShell()}, nil
	}
	return hostnet.Step{Shell: fmt.Sprintf("if %s >/dev/null; then :; else %s\nfi", hostnet.FindOwned(p.Owner), p.StartShell()), Verify: p.Verify()}, nil
}

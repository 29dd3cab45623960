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
	return Info{Name: Process, Order: 11, Parent: "on", WithHost: true,
		ForceNew: []string{"on", "host", "host_name", "netns", "mount_ns", "uts_ns", "node_files", "command", "owner", "log"}}
}

func processOf(addr string, a Attrs) (hostnet.Process, error) {
	p := parser{a: a}
	var cmd []string
	p.json("command", &cmd)
	if p.err == nil && len(cmd) == 0 {
		p.fail("command", fmt.Errorf("empty"))
	}
	pr := hostnet.Process{Addr: addr, Owner: p.str("owner"), Netns: p.optName("netns"), Command: cmd, Log: p.str("log")}
	if p.a["mount_ns"] != "" {
		// On a container with namespaces of its own (nsenter needs its
		// network namespace too).
		pr.MountNS, pr.UTSNS, pr.Netns = p.path("mount_ns"), p.path("uts_ns"), p.name("netns")
	}
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

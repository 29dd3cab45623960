package kinds

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/labnet-dev/labnet/hostnet"
)

// process: a long-running command in a host's or a guest's namespace,
// marked with its owner so that refresh and destroy find it.
type process struct{}

func init() {
	register(process{})
	expands(phaseOnNodes, expandProcesses)
}

// expandProcesses: process blocks, and a pod's command containers, which
// are processes sharing the pod's namespace.
func expandProcesses(x *Expansion) {
	for _, p := range x.Lab.Processes() {
		x.process(p.Addr, p.Name, p.On, p.Command, x.deps(p.Addr, p.On))
	}
	for _, p := range x.Lab.Pods() {
		for _, c := range p.Containers {
			if c.Image != nil {
				continue // a pod_container (podcontainer.go)
			}
			x.process(p.Addr+"/"+c.Name, p.Name+"."+c.Name, p.Addr, c.Command, []string{p.Addr})
		}
	}
}

func (x *Expansion) process(addr, name, on string, command []string, deps []string) {
	at := x.nodes[on]
	hn := x.host(at.host).Name
	a := Attrs{
		"on": on, "host": at.host, "host_name": hn, "netns": at.netns, "command": CommandAttr(command),
		"owner": x.Names.Owner(hn, addr), "log": x.Names.LogFile(name),
	}
	if at.iso != nil {
		// It runs in its container's namespaces (an image container's with
		// runc exec, beside the image's process), and is restarted when
		// the container's files change (which restarts an image container).
		files := Attrs{}
		for k, v := range at.iso {
			if strings.HasPrefix(k, FilePrefix) {
				files[k] = v
			}
		}
		a["mount_ns"], a["uts_ns"], a["node_files"] = at.iso["mount_ns"], at.iso["uts_ns"], FilesDigest(files)
		a["runc_id"] = at.iso["runc_id"]
	}
	x.add(&Resource{Addr: addr, Kind: Process, Host: at.host, Attrs: a, Deps: deps})
}

func (process) Info() Info {
	return Info{Name: Process, Order: 12, Parents: []string{"on"}, WithHost: true,
		ForceNew: []string{"on", "host", "host_name", "netns", "mount_ns", "uts_ns", "node_files", "runc_id", "command", "owner", "log"}}
}

// processSpec is a process's typed spec: where it runs (On, and its
// namespaces: none on a host; a container's own mount and UTS ones too)
// and its command as a list of arguments.
type processSpec struct {
	On       string `json:"on,omitzero"`
	Host     string `json:"host,omitzero"`
	HostName string `json:"host_name,omitzero"`
	Netns    string `json:"netns,omitzero"`
	MountNS  string `json:"mount_ns,omitzero"`
	UTSNS    string `json:"uts_ns,omitzero"`
	// NodeFiles: a digest of its container's files; a change restarts it.
	NodeFiles string `json:"node_files,omitzero"`
	// RuncID: the image container it runs in (runc exec).
	RuncID  string   `json:"runc_id,omitzero"`
	Command []string `json:"command,omitempty"`
	Owner   string   `json:"owner,omitzero"`
	Log     string   `json:"log,omitzero"`
}

func processSpecOf(addr string, a Attrs) (*processSpec, error) {
	p := parser{a: a}
	s := &processSpec{On: p.str("on"), Host: p.str("host"), HostName: p.str("host_name"), Netns: p.optName("netns")}
	if a["mount_ns"] != "" {
		// On a container with namespaces of its own (nsenter needs its
		// network namespace too).
		s.MountNS, s.UTSNS, s.Netns = p.path("mount_ns"), p.path("uts_ns"), p.name("netns")
	}
	s.NodeFiles = p.opt("node_files")
	s.RuncID = p.optName("runc_id")
	p.json("command", &s.Command)
	if p.err == nil && len(s.Command) == 0 {
		p.fail("command", fmt.Errorf("empty"))
	}
	s.Owner, s.Log = p.str("owner"), p.str("log")
	return s, p.done(addr)
}

func (s *processSpec) Attrs() Attrs {
	o := make(out, 7)
	o.str("on", s.On)
	o.str("host", s.Host)
	o.str("host_name", s.HostName)
	o.str("netns", s.Netns)
	o.str("mount_ns", s.MountNS)
	o.str("uts_ns", s.UTSNS)
	o.str("node_files", s.NodeFiles)
	o.str("runc_id", s.RuncID)
	if len(s.Command) > 0 {
		o.str("command", CommandAttr(s.Command))
	}
	o.str("owner", s.Owner)
	o.str("log", s.Log)
	return Attrs(o)
}

func (process) Spec(addr string, a Attrs) (Spec, error) { return processSpecOf(addr, a) }
func (process) NewSpec() Spec                           { return &processSpec{} }

// CommandAttr is a process's "command" attribute: its arguments as a
// JSON list.
func CommandAttr(cmd []string) string { return jsonAttr(cmd) }

func processOf(addr string, a Attrs) (hostnet.Process, error) {
	s, err := processSpecOf(addr, a)
	return hostnet.Process{Addr: addr, Owner: s.Owner, Netns: s.Netns, MountNS: s.MountNS, UTSNS: s.UTSNS, Runc: s.RuncID, Command: s.Command, Log: s.Log,
		Spec: s.mark()}, err
}

// mark is the digest of what the process is started from: its command,
// its namespaces, its log and its container's files (SpecEnvName).
func (s *processSpec) mark() string {
	what := []any{s.Command, s.Netns, s.MountNS, s.UTSNS, s.Log, s.NodeFiles}
	if s.RuncID != "" {
		what = append(what, s.RuncID) // only then: the marks of the others stay as they were
	}
	sum := sha256.Sum256([]byte(jsonAttr(what)))
	return hex.EncodeToString(sum[:8])
}

func (process) Reads(r *Reads, a Attrs) { r.Procs() }

// Judge: a process is there when a process carries its owner mark; it is
// the lab's when one of them carries its spec mark too. One without a spec
// mark was started by a labnet from before the mark, and is taken as it is.
func (process) Judge(n hostnet.Names, addr string, a Attrs, k *hostnet.Observed, going bool) (hostnet.Verdict, error) {
	pids := k.Procs[a["owner"]]
	if len(pids) == 0 {
		return hostnet.Verdict{Drift: []string{"process is not running"}}, nil
	}
	if going {
		return hostnet.Verdict{Exists: true}, nil
	}
	s, err := processSpecOf(addr, a)
	if err != nil {
		return hostnet.Verdict{}, err
	}
	want, unmarked := s.mark(), false
	var others []string
	for _, pid := range pids {
		switch got, ok := k.ProcSpecs[pid]; {
		case !ok:
			unmarked = true
		case got == want:
			return hostnet.Verdict{Exists: true}, nil
		default:
			others = append(others, got)
		}
	}
	if unmarked {
		return hostnet.Verdict{Exists: true}, nil
	}
	return hostnet.Verdict{Exists: true, Unrepairable: true, Drift: []string{fmt.Sprintf(
		"process was started from another command or namespaces (spec %s, wants %s)", strings.Join(others, ", "), want)}}, nil
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

package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/labnet-dev/labnet/check"
	"github.com/labnet-dev/labnet/hostnet"
	"github.com/labnet-dev/labnet/kinds"
	"github.com/labnet-dev/labnet/remote"
	"golang.org/x/crypto/ssh"
	"golang.org/x/term"
)

// nodeFlags are what exec, ssh and capture take: the state directory, and
// the lab's variables (the lab names its hosts' providers with them).
type nodeFlags struct {
	state    *string
	vars     varFlags
	varFiles listFlag
}

func addNodeFlags(fs *flag.FlagSet) nodeFlags {
	nf := nodeFlags{state: fs.String("state", "", "state directory"), vars: varFlags{}}
	fs.Var(nf.vars, "var", "set a variable, as at apply (repeatable)")
	fs.Var(&nf.varFiles, "var-file", "read variables from an HCL file (repeatable)")
	return nf
}

// nodeSession finds an applied node and opens its host's connection.
func (u *ui) nodeSession(ctx context.Context, nf nodeFlags, addr string) (*workspace, check.Node, *remote.Conn, func(), bool) {
	w, ok := u.load(nf.vars, nf.varFiles, *nf.state, false)
	if !ok {
		return nil, check.Node{}, nil, nil, false
	}
	st, err := w.dir.Load(kinds.StateCodec)
	if err != nil || st == nil {
		if err == nil {
			err = errors.New("the lab is not applied")
		}
		u.errorf("%v", err)
		return nil, check.Node{}, nil, nil, false
	}
	for _, note := range w.providerNotes(st) {
		u.warnf("%s", note)
	}
	nodes := w.nodes(st)
	n, found := nodes[addr]
	if !found {
		var names []string
		for _, k := range sortedKeys(nodes) {
			names = append(names, k)
		}
		u.errorf("no applied node %q; nodes are: %s", addr, strings.Join(names, ", "))
		return nil, check.Node{}, nil, nil, false
	}
	e, err := w.engine(1)
	if err != nil {
		u.errorf("%v", err)
		return nil, check.Node{}, nil, nil, false
	}
	c, err := e.Conn(ctx, st.Get(n.Host))
	if err != nil {
		e.Close()
		u.errorf("%v", err)
		return nil, check.Node{}, nil, nil, false
	}
	return w, n, c, e.Close, true
}

// inNode wraps a shell command so it runs in the node's namespaces, as
// the lab's processes there do (a container's network, mount and UTS
// namespaces: its private dirs and hostname). The command carries the
// node's owner mark, as the lab's processes do: one that outlives its
// session (a capture whose filter matches nothing never writes, so never
// learns that the session closed) is found and killed by destroy.
func inNode(n check.Node, argv []string) string {
	if n.Runc != "" {
		// An image container: in all its namespaces, its root, env and
		// capabilities.
		return remote.Join(append([]string{"runc", "exec", "--env", hostnet.OwnerEnvName + "=" + n.Owner, n.Runc}, argv...)...)
	}
	return inNodeNet(n, argv)
}

// inNodeNet is inNode, but in an image container's network namespace
// only (capture runs the host's tcpdump there).
func inNodeNet(n check.Node, argv []string) string {
	p := hostnet.Process{Netns: n.Netns, MountNS: n.MountNS, UTSNS: n.UTSNS}
	return remote.Join(append([]string{"env", hostnet.OwnerEnvName + "=" + n.Owner}, p.InNamespaces(argv)...)...)
}

func (u *ui) exec(ctx context.Context, args []string) int {
	fs := newFlags(u, "exec", "exec [-state=DIR] [-var N=V]... NODE -- COMMAND [ARG...]\n\nRuns a command inside any host, container, VM or pod (e.g. container.web[0]),\npassing stdin, stdout, stderr and the exit code through.\n\nExample:\n  labnet exec pod.web[0] -- ip -br addr")
	nf := addNodeFlags(fs)
	if fs.Parse(args) != nil {
		return 1
	}
	rest := fs.Args()
	if len(rest) < 2 {
		u.errorf("usage: labnet exec NODE -- COMMAND [ARG...]")
		return 1
	}
	node, argv := rest[0], rest[1:]
	if argv[0] == "--" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		u.errorf("no command given")
		return 1
	}
	_, n, c, done, ok := u.nodeSession(ctx, nf, node)
	if !ok {
		return 1
	}
	defer done()
	code, err := c.Stream(ctx, inNode(n, argv), u.stdin, u.stdout, u.stderr)
	if err != nil {
		u.errorf("%v", err)
		return 1
	}
	return code
}

// sshCmd opens an interactive shell (with a terminal when stdin is one) in a node.
func (u *ui) sshCmd(ctx context.Context, args []string) int {
	fs := newFlags(u, "ssh", "ssh [-state=DIR] [-var N=V]... NODE\n\nOpens a shell inside a host, container, VM or pod over the lab's SSH connection.\n\nExample:\n  labnet ssh host.node[0]")
	nf := addNodeFlags(fs)
	if fs.Parse(args) != nil || fs.NArg() != 1 {
		if fs.NArg() != 1 {
			u.errorf("usage: labnet ssh NODE")
		}
		return 1
	}
	_, n, c, done, ok := u.nodeSession(ctx, nf, fs.Arg(0))
	if !ok {
		return 1
	}
	defer done()
	sess, err := c.Client().NewSession()
	if err != nil {
		u.errorf("%v", err)
		return 1
	}
	defer sess.Close()
	sess.Stdin, sess.Stdout, sess.Stderr = u.stdin, u.stdout, u.stderr
	if f, ok := u.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		w, h, _ := term.GetSize(int(f.Fd()))
		if err := sess.RequestPty(os.Getenv("TERM"), h, w, ssh.TerminalModes{ssh.ECHO: 1}); err != nil {
			u.errorf("pty: %v", err)
			return 1
		}
		old, err := term.MakeRaw(int(f.Fd()))
		if err == nil {
			defer term.Restore(int(f.Fd()), old)
		}
	}
	shell := inNode(n, []string{"sh", "-c", "exec ${SHELL:-/bin/sh} -l"})
	if err := sess.Run(shell); err != nil {
		if ee, ok := err.(*ssh.ExitError); ok {
			return ee.ExitStatus()
		}
		u.errorf("%v", err)
		return 1
	}
	return 0
}

// capture streams tcpdump's pcap from inside a node.
func (u *ui) capture(ctx context.Context, args []string) int {
	fs := newFlags(u, "capture", "capture [-i IFACE] [-w FILE] [-var N=V]... NODE [FILTER...]\n\nRuns tcpdump inside a node and streams the capture back as pcap.\n\nExamples:\n  labnet capture -w web.pcap container.web[0] tcp port 80\n  labnet capture pod.web[0] | wireshark -k -i -")
	iface := fs.String("i", "any", "interface inside the node")
	out := fs.String("w", "-", "write the pcap to FILE (- for stdout)")
	nf := addNodeFlags(fs)
	if fs.Parse(args) != nil || fs.NArg() < 1 {
		if fs.NArg() < 1 {
			u.errorf("usage: labnet capture [-i IFACE] [-w FILE] NODE [FILTER...]")
		}
		return 1
	}
	_, n, c, done, ok := u.nodeSession(ctx, nf, fs.Arg(0))
	if !ok {
		return 1
	}
	defer done()
	w := u.stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			u.errorf("%v", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	argv := append([]string{"tcpdump", "-U", "-n", "-i", *iface, "-w", "-"}, fs.Args()[1:]...)
	script := "command -v tcpdump >/dev/null || { echo 'tcpdump is not installed on the host (apt-get install tcpdump)' >&2; exit 127; }; " + inNodeNet(n, argv)
	code, err := c.Stream(ctx, script, nil, w, u.stderr)
	if err != nil && ctx.Err() == nil {
		u.errorf("%v", err)
		return 1
	}
	if ctx.Err() != nil {
		return 0 // interrupted: the capture is complete up to here
	}
	if code != 0 {
		fmt.Fprintf(u.stderr, "tcpdump exited %d\n", code)
	}
	return code
}

// logs prints an image container's output (its log file on the host).
func (u *ui) logs(ctx context.Context, args []string) int {
	fs := newFlags(u, "logs", "logs [-f] [-state=DIR] [-var N=V]... NODE\n\nPrints the stdout and stderr of a container run from an image (image = ...);\n-f follows it.\n\nExample:\n  labnet logs -f container.web")
	follow := fs.Bool("f", false, "follow the log as it grows")
	nf := addNodeFlags(fs)
	if fs.Parse(args) != nil || fs.NArg() != 1 {
		if fs.NArg() != 1 {
			u.errorf("usage: labnet logs [-f] NODE")
		}
		return 1
	}
	_, n, c, done, ok := u.nodeSession(ctx, nf, fs.Arg(0))
	if !ok {
		return 1
	}
	defer done()
	if n.Log == "" {
		u.errorf("%s has no log: only containers run from an image do", n.Addr)
		return 1
	}
	argv := []string{"tail", "-n", "+1", n.Log}
	if *follow {
		argv = []string{"tail", "-n", "+1", "-f", n.Log}
	}
	code, err := c.Stream(ctx, remote.Join(argv...), nil, u.stdout, u.stderr)
	if err != nil && ctx.Err() == nil {
		u.errorf("%v", err)
		return 1
	}
	if ctx.Err() != nil {
		return 0
	}
	return code
}

// Package check runs a lab's check blocks by real traffic: for tcp and udp
// a short-lived listener starts inside the target node and reports the
// address it saw, then the client connects from the source node; ping and
// exec run inside the source node. Listeners and clients are python3
// one-liners, so a host needs python3 (and ping for ping checks).
package check

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/remote"
)

// Node is where a check runs: a host's own namespace or a guest's.
type Node struct {
	Addr    string // resource address
	Host    string // host resource address
	Netns   string // "" for the host itself
	Address netip.Addr
	// Owner marks the processes a check starts on the node's host
	// (LABNET_OWNER), so that destroy finds them like the lab's own.
	Owner string
}

// Conns gives the connection to a host.
type Conns func(ctx context.Context, host string) (*remote.Conn, error)

// Result of one check.
type Result struct {
	Name     string        `json:"name"`
	From     string        `json:"from"`
	To       string        `json:"to,omitempty"`
	Kind     string        `json:"kind"`
	Target   string        `json:"target,omitempty"` // what the client dialled
	Expected string        `json:"expected"`
	Observed string        `json:"observed"` // "reach" or "blocked"
	Seen     string        `json:"source_seen,omitempty"`
	Pass     bool          `json:"pass"`
	Detail   string        `json:"detail,omitempty"`
	Elapsed  time.Duration `json:"elapsed_ns"`
}

// The listener answers only the client that sends this check's token:
// checks run in parallel, and another check's client may well knock on
// the same address and port (a "blocked" check dials an address that is
// some other node's on its own host). Anyone else is hung up on.
const listener = `import os, select, socket, sys, time
proto, port, wait, token = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4].encode()
kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, kind)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("0.0.0.0", port))
except OSError as e:
    print("error cannot listen on %s/%d: %s" % (proto, port, e), flush=True)
    sys.exit(3)
if proto == "tcp":
    s.listen(64)
print("ready", flush=True)
end = time.time() + wait
while True:
    left = end - time.time()
    if left <= 0:
        print("nothing", flush=True)
        sys.exit(0)
    r, _, _ = select.select([s, 0], [], [], left)
    if 0 in r and not os.read(0, 64):
        print("nothing", flush=True)  # labnet closed stdin: the client is done
        sys.exit(0)
    if s not in r:
        continue
    if proto == "tcp":
        c, a = s.accept()
        c.settimeout(2)
        try:
            got = c.recv(64).strip()
        except OSError:
            got = b""
        if got != token:
            c.close()
            continue
        c.sendall(b"labnet\n")
        c.close()
    else:
        d, a = s.recvfrom(2048)
        if d.strip() != token:
            continue
        s.sendto(b"labnet\n", a)
    print("peer %s %d" % (a[0], a[1]), flush=True)
    sys.exit(0)
`

const client = `import socket, sys
proto, ip, port, wait, token = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5].encode()
try:
    if proto == "tcp":
        s = socket.create_connection((ip, port), timeout=wait)
        s.settimeout(wait)
        s.sendall(token + b"\n")
        if not s.recv(64):
            raise OSError("connection closed by the server")
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(wait)
        s.sendto(token + b"\n", (ip, port))
        s.recvfrom(64)
    print("ok", flush=True)
except Exception as e:
    print("error %s" % e, flush=True)
    sys.exit(1)
`

func inNode(n Node, argv ...string) string {
	if n.Netns != "" {
		argv = append([]string{"ip", "netns", "exec", n.Netns}, argv...)
	}
	if n.Owner != "" {
		argv = append([]string{"env", "LABNET_OWNER=" + n.Owner}, argv...)
	}
	return remote.Join(argv...)
}

// Run runs checks with at most parallel at once. Checks that listen on the
// same node, protocol and port run one after another.
func Run(ctx context.Context, checks []*config.Check, nodes map[string]Node, conns Conns, parallel int) []Result {
	results := make([]Result, len(checks))
	groups := map[string][]int{}
	var order []string
	for i, c := range checks {
		key := fmt.Sprintf("#%d", i)
		if c.Kind == "tcp" || c.Kind == "udp" {
			key = fmt.Sprintf("%s %s %d", c.To, c.Kind, c.Port)
		}
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], i)
	}
	sem := make(chan struct{}, max(1, parallel))
	var wg sync.WaitGroup
	for _, key := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, i := range groups[key] {
				sem <- struct{}{}
				results[i] = one(ctx, checks[i], nodes, conns)
				<-sem
			}
		}()
	}
	wg.Wait()
	return results
}

func one(ctx context.Context, c *config.Check, nodes map[string]Node, conns Conns) (r Result) {
	start := time.Now()
	r = Result{Name: c.Name, From: c.From, To: c.To, Kind: c.Kind, Expected: c.Expect}
	if c.Dial.IsValid() {
		r.Target = c.Dial.String()
		if c.Dial.Port() == 0 {
			r.Target = c.Dial.Addr().String()
		}
	}
	defer func() {
		r.Elapsed = time.Since(start)
	}()
	from, ok := nodes[c.From]
	if !ok {
		r.Detail = c.From + " is not applied"
		return r
	}
	fc, err := conns(ctx, from.Host)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	secs := fmt.Sprintf("%.3f", c.Timeout.Seconds())
	switch c.Kind {
	case "exec", "ping":
		var script string
		if c.Kind == "exec" {
			script = inNode(from, "sh", "-c", c.Exec)
		} else {
			script = inNode(from, "ping", "-n", "-q", "-c", "1", "-W", fmt.Sprint(max(1, int(c.Timeout.Seconds()))), c.Dial.Addr().String())
		}
		var out strings.Builder
		cctx, cancel := context.WithTimeout(ctx, c.Timeout+5*time.Second)
		code, err := fc.Stream(cctx, script, nil, &out, &out)
		cancel()
		if err != nil {
			r.Detail = err.Error()
			r.Observed = "blocked"
		} else if code == 0 {
			r.Observed = "reach"
		} else {
			r.Observed = "blocked"
			r.Detail = lastLine(out.String())
		}
		r.Pass = r.Observed == c.Expect
		return r
	}
	to, ok := nodes[c.To]
	if !ok {
		r.Detail = c.To + " is not applied"
		return r
	}
	tc, err := conns(ctx, to.Host)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	// The listener's own limit is only a safety net: it is stopped as soon
	// as the client's attempt is over.
	wait := c.Timeout + time.Minute
	var tb [8]byte
	_, _ = rand.Read(tb[:])
	token := "labnet-" + hex.EncodeToString(tb[:])
	lctx, lcancel := context.WithTimeout(ctx, wait+10*time.Second)
	defer lcancel()
	pr, pw := io.Pipe()
	lines := make(chan string, 4)
	var lerr strings.Builder
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	ldone := make(chan error, 1)
	stopR, stopW := io.Pipe() // closing stopW ends the listener (EOF on its stdin)
	defer stopW.Close()
	go func() {
		_, err := tc.Stream(lctx, inNode(to, "python3", "-c", listener, c.Kind, fmt.Sprint(c.Port), fmt.Sprintf("%.3f", wait.Seconds()), token), stopR, pw, &lerr)
		pw.Close()
		ldone <- err
	}()
	select {
	case l, ok := <-lines:
		if !ok || l != "ready" {
			r.Detail = strings.TrimSpace("listener in " + c.To + " did not start: " + strings.TrimPrefix(l, "error ") + " " + lastLine(lerr.String()))
			return r
		}
	case <-lctx.Done():
		r.Detail = "listener in " + c.To + " did not start in time"
		return r
	}
	var cout strings.Builder
	cctx, ccancel := context.WithTimeout(ctx, c.Timeout+5*time.Second)
	code, cerr := fc.Stream(cctx, inNode(from, "python3", "-c", client, c.Kind, c.Dial.Addr().String(), fmt.Sprint(c.Dial.Port()), secs, token), nil, &cout, &cout)
	ccancel()
	// The client's attempt is over: what the listener heard by now (and in
	// a short grace for packets in flight) is the observation. The
	// listener is then stopped, so a busy machine that is slow to start
	// processes cannot turn "reach" into "blocked", and "blocked" costs the
	// client's timeout, not more.
	grace := 500 * time.Millisecond
	if cerr == nil && code == 0 {
		grace = 5 * time.Second // it answered the client: its line is on its way
	}
	var heard string
	timer := time.NewTimer(grace)
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				break wait
			}
			if strings.HasPrefix(l, "peer ") || l == "nothing" || strings.HasPrefix(l, "error") {
				heard = l
				break wait
			}
		case <-timer.C:
			heard = "nothing"
			break wait
		}
	}
	timer.Stop()
	stopW.Close()
	select {
	case <-ldone:
	case <-time.After(5 * time.Second):
		lcancel()
		<-ldone
	}
	switch {
	case strings.HasPrefix(heard, "peer "):
		f := strings.Fields(heard)
		r.Seen = f[1]
		r.Observed = "reach"
	case heard == "nothing":
		r.Observed = "blocked"
	default:
		r.Detail = "listener: " + heard + " " + lastLine(lerr.String())
		return r
	}
	clientOK := cerr == nil && code == 0
	if !clientOK && r.Observed == "reach" && c.Kind == "tcp" {
		r.Detail = "the listener heard the client but the client failed: " + lastLine(cout.String())
	} else if !clientOK && r.Observed == "blocked" {
		r.Detail = "client: " + strings.TrimPrefix(lastLine(cout.String()), "error ")
	}
	r.Pass = r.Observed == c.Expect
	if r.Pass && c.Expect == "reach" && c.Source.IsValid() && r.Seen != c.Source.String() {
		r.Pass = false
		r.Detail = fmt.Sprintf("source seen %s, expected %s", r.Seen, c.Source)
	}
	return r
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

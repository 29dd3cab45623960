// Package check runs a lab's check blocks by real traffic: for tcp and udp
// a listener starts inside the target node and reports the address it saw,
// then the client connects from the source node; ping and exec run inside
// the source node. Probes run in one python3 agent per host (agent.py), so
// a host needs python3.
package check

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/labnet-dev/labnet/config"
	"github.com/labnet-dev/labnet/remote"
)

// Node is where a check runs: a host's own namespace or a guest's.
type Node struct {
	Addr  string // resource address
	Host  string // host resource address
	Netns string // "" for the host itself
	// MountNS and UTSNS: a container's own namespaces, which labnet exec,
	// ssh and capture enter too ("" for none), and exec checks; the other
	// checks' probes run in Netns only.
	MountNS, UTSNS string
	// Runc: an image container's runc id (exec and ssh run in it with
	// runc exec), and Log its output's file on the host.
	Runc, Log string
	Address   netip.Addr
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
	// Tries: how many times a check with `within` ran (1 without); Elapsed
	// is then the time until it passed, or until it gave up.
	Tries int `json:"tries"`
}

// Run runs checks with at most parallel at once. Checks that listen on the
// same node, protocol and port run one after another. Every host taking
// part gets one agent (agent.py), so a check costs a few lines on an open
// session, not a process or a session of its own.
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
	ags := &agents{conns: conns, nodes: nodes, m: map[string]*agentCall{}}
	defer ags.close()
	sem := make(chan struct{}, max(1, parallel))
	var wg sync.WaitGroup
	for _, key := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, i := range groups[key] {
				sem <- struct{}{}
				results[i] = one(ctx, checks[i], nodes, ags)
				<-sem
			}
		}()
	}
	wg.Wait()
	return results
}

// retryEvery is the pause between two tries of a check with `within`.
const retryEvery = 250 * time.Millisecond

// one runs a check once, or with `within` until it passes or its time is
// up (a try started in time runs to its own timeout).
func one(ctx context.Context, c *config.Check, nodes map[string]Node, ags *agents) Result {
	start := time.Now()
	for tries := 1; ; tries++ {
		r := try(ctx, c, nodes, ags)
		r.Tries, r.Elapsed = tries, time.Since(start)
		if r.Pass || c.Within == 0 || time.Since(start)+retryEvery >= c.Within || ctx.Err() != nil {
			return r
		}
		select {
		case <-ctx.Done():
			return r
		case <-time.After(retryEvery):
		}
	}
}

func try(ctx context.Context, c *config.Check, nodes map[string]Node, ags *agents) (r Result) {
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
	fa, err := ags.get(ctx, from)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	secs := c.Timeout.Seconds()
	// Events come back within the probe's own timeout; the margin covers a
	// busy host that is slow to start a thread or a process.
	limit := c.Timeout + 5*time.Second
	switch c.Kind {
	case "route":
		// The prefix is a parsed one: nothing of the user's text reaches the shell.
		ev, err := fa.do(ctx, request{Op: "exec", Netns: from.Netns, Cmd: "ip -j -4 route show exact " + c.Route.String(), Timeout: secs}, limit)
		r.Target = c.Route.String()
		switch {
		case err != nil:
			r.Observed, r.Detail = "blocked", err.Error()
		case ev.Event != "exit" || ev.Code != 0:
			r.Observed, r.Detail = "blocked", "ip route: "+lastLine(ev.Out+ev.Msg)
		default:
			r.Observed, r.Detail = judgeRoute(c, []byte(ev.Out))
		}
		r.Pass = r.Observed == c.Expect
		return r
	case "ping", "exec":
		req := request{Op: "ping", Netns: from.Netns, Addr: c.Dial.Addr().String(), Timeout: float64(max(1, int(secs)))}
		if c.Kind == "exec" {
			// An exec check's command sees the node as its processes do
			// (a container's own files: vtysh finds its daemons there).
			req = request{Op: "exec", Netns: from.Netns, Mnt: from.MountNS, Uts: from.UTSNS, Cmd: c.Exec, Timeout: secs}
		}
		ev, err := fa.do(ctx, req, limit)
		switch {
		case err != nil:
			r.Detail = err.Error()
			r.Observed = "blocked"
		case ev.Event == "exit" && ev.Code == 0 && c.ExpectOutput != nil && !c.ExpectOutput.MatchString(strings.TrimRight(ev.Out, "\n")):
			r.Observed = "blocked"
			r.Detail = fmt.Sprintf("output does not match %q: %s", c.ExpectOutput, lastLine(ev.Out))
		case ev.Event == "ok" || (ev.Event == "exit" && ev.Code == 0):
			r.Observed = "reach"
		default:
			r.Observed = "blocked"
			r.Detail = ev.Msg
			if ev.Event == "exit" {
				r.Detail = lastLine(ev.Out)
			}
		}
		r.Pass = r.Observed == c.Expect
		return r
	}
	to, ok := nodes[c.To]
	if !ok {
		r.Detail = c.To + " is not applied"
		return r
	}
	ta, err := ags.get(ctx, to)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	var tb [8]byte
	_, _ = rand.Read(tb[:])
	token := "labnet-" + hex.EncodeToString(tb[:])
	// The listener's own limit is only a safety net: it is stopped as soon
	// as the client's attempt is over.
	lid, events := ta.start(request{Op: "listen", Netns: to.Netns, Proto: c.Kind, Port: c.Port, Token: token, Wait: (c.Timeout + time.Minute).Seconds()})
	defer ta.forget(lid)
	ev, err := ta.next(ctx, events, limit)
	if err != nil || ev.Event != "ready" {
		msg := ev.Msg
		if err != nil {
			msg = err.Error()
		}
		r.Detail = "listener in " + c.To + " did not start: " + msg
		return r
	}
	cev, cerr := fa.do(ctx, request{Op: "connect", Netns: from.Netns, Proto: c.Kind, Addr: c.Dial.Addr().String(), Port: int(c.Dial.Port()), Token: token, Timeout: secs}, limit)
	clientOK := cerr == nil && cev.Event == "ok"
	// The client's attempt is over: what the listener heard by now (and in
	// a short grace for packets in flight) is the observation. A busy
	// machine slow to schedule the listener cannot turn "reach" into
	// "blocked", and "blocked" costs the client's timeout, not more.
	grace := 500 * time.Millisecond
	if clientOK {
		grace = 5 * time.Second // it answered the client: its line is on its way
	}
	heard, herr := ta.next(ctx, events, grace)
	if herr != nil {
		ta.stop(lid)
		heard, herr = ta.next(ctx, events, 5*time.Second)
	}
	switch {
	case herr != nil:
		r.Detail = "listener in " + c.To + ": " + herr.Error()
		return r
	case heard.Event == "peer":
		r.Seen = heard.Addr
		r.Observed = "reach"
	case heard.Event == "nothing":
		r.Observed = "blocked"
	default:
		r.Detail = "listener: " + heard.Msg
		return r
	}
	cmsg := cev.Msg
	if cerr != nil {
		cmsg = cerr.Error()
	}
	if !clientOK && r.Observed == "reach" && c.Kind == "tcp" {
		r.Detail = "the listener heard the client but the client failed: " + cmsg
	} else if !clientOK && r.Observed == "blocked" {
		r.Detail = "client: " + cmsg
	}
	r.Pass = r.Observed == c.Expect
	if r.Pass && c.Expect == "reach" && c.Source.IsValid() && r.Seen != c.Source.String() {
		r.Pass = false
		r.Detail = fmt.Sprintf("source seen %s, expected %s", r.Seen, c.Source)
	}
	return r
}

// judgeRoute reads `ip -j route show exact` output: "reach" when the
// route is there with the next hops the check asks for.
func judgeRoute(c *config.Check, out []byte) (observed, detail string) {
	var routes []struct {
		Gateway  string `json:"gateway"`
		Dev      string `json:"dev"`
		Nexthops []struct {
			Gateway string `json:"gateway"`
			Dev     string `json:"dev"`
		} `json:"nexthops"`
	}
	if err := json.Unmarshal(out, &routes); err != nil {
		return "blocked", "ip route: " + err.Error()
	}
	if len(routes) == 0 {
		return "blocked", "no route to " + c.Route.String()
	}
	var hops []string // "GATEWAY dev DEV", or "dev DEV" for a direct route
	for _, h := range routes[0].Nexthops {
		hops = append(hops, strings.TrimSpace(h.Gateway+" dev "+h.Dev))
	}
	if len(hops) == 0 {
		hops = append(hops, strings.TrimSpace(routes[0].Gateway+" dev "+routes[0].Dev))
	}
	desc := fmt.Sprintf("%s via %s", c.Route, strings.Join(hops, ", "))
	if c.Nexthops > 0 && len(hops) != c.Nexthops {
		return "blocked", fmt.Sprintf("%s: %d next hops, wants %d", desc, len(hops), c.Nexthops)
	}
	for _, v := range c.Via {
		found := false
		for _, h := range hops {
			found = found || strings.HasPrefix(h, v.String()+" ")
		}
		if !found {
			return "blocked", fmt.Sprintf("%s: not via %s", desc, v)
		}
	}
	return "reach", desc
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
